import path from 'node:path';

/**
 * How a test runs `kiln` as a process of its own: the shipped command
 * (bin/kiln.js → dist/cli/main.js), built once by the jest global setup
 * (test/global-setup.ts) together with the packages it imports.
 */
export const KILN_BIN = path.resolve('bin/kiln.js');

/** `[node, args]` for child_process: `spawn(...kilnCommand('migrate', '--json'))`. */
export function kilnCommand(...args: string[]): [string, string[]] {
  return [process.execPath, [KILN_BIN, ...args]];
}
