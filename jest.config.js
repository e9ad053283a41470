// Jest in ESM mode with @swc/jest; type-checking is `tsc -b`'s job.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }];
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@kiln/(shared|agent|crawler|server)$': '<rootDir>/packages/$1/src/index.ts',
    '^@kiln/agent/engine$': '<rootDir>/packages/agent/src/engine-main.ts',
    '^@kiln/shared/signing-key$': '<rootDir>/packages/shared/src/signing-key.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
export default {
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // Builds dist/ once for the processes the suites spawn (runs only when an integration test is selected).
      globalSetup: '<rootDir>/test/global-setup.ts',
    },
  ],
};
