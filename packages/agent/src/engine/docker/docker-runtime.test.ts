import { loadConfig } from '@kiln/shared';
import { engineOptionsFromConfig } from '../build-engine.js';
import { BUILD_CAPABILITIES, privilegeSettings } from './container-privileges.js';

describe('privilegeSettings', () => {
  test('locked down by default: all capabilities dropped but the few, no new privileges', () => {
    expect(privilegeSettings({ privileged: false })).toEqual({
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: BUILD_CAPABILITIES,
      SecurityOpt: ['no-new-privileges'],
    });
    expect(BUILD_CAPABILITIES).not.toContain('SYS_ADMIN');
  });

  test('privileged only where the operator allows it (KILN_ALLOW_PRIVILEGED)', () => {
    expect(privilegeSettings({ privileged: true })).toEqual({ Privileged: true });
  });
});

test('the operator setting reaches the engine', () => {
  expect(engineOptionsFromConfig(loadConfig({})).allowPrivileged).toBe(false);
  expect(engineOptionsFromConfig(loadConfig({ KILN_ALLOW_PRIVILEGED: 'true' })).allowPrivileged).toBe(true);
});

test('every KILN_* limit reaches the engine, converted to its unit', () => {
  const options = engineOptionsFromConfig(
    loadConfig({
      KILN_MEMORY_LIMIT: '300m',
      KILN_CPU_LIMIT: '0.5',
      KILN_PIDS_LIMIT: '77',
      KILN_STAGE_TIMEOUT: '20m',
      KILN_IDLE_TIMEOUT: '90s',
      KILN_LOG_LIMIT: '64k',
      KILN_NETWORK: 'none',
      KILN_ALLOW_INHERIT_ENV: 'true',
      KILN_ALLOW_STAGE_NETWORK: 'true',
      KILN_PAYLOAD_LIMIT: '10m',
      KILN_CONTENT_POLICY: 'fail',
      KILN_BUILD_NETWORK_ALLOW: '10.9.0.0/16',
      KILN_BUILD_NETWORK_DENY: '203.0.113.0/24',
      KILN_VERIFY_REPRODUCIBLE: '0.25',
      KILN_DIFFOSCOPE_IMAGE: 'tools/diffoscope:1',
      KILN_SIGNING_KEY: '/etc/kiln/signing-key.asc',
      KILN_EMULATION_SLOWDOWN: '12',
    }),
  );
  expect(options).toEqual({
    verifyReproducible: 0.25,
    diffoscopeImage: 'tools/diffoscope:1',
    signingKey: '/etc/kiln/signing-key.asc',
    allowPrivileged: false,
    allowInheritEnv: true,
    limits: {
      memoryBytes: 300 * 1024 ** 2,
      cpus: 0.5,
      pids: 77,
      stageTimeoutMs: 1_200_000,
      idleTimeoutMs: 90_000,
      logLimitBytes: 64 * 1024,
      network: 'none',
      allowStageNetwork: true,
      payloadLimitBytes: 10 * 1024 ** 2,
      contentPolicy: 'fail',
      emulationSlowdown: 12,
    },
    firewall: { allow: ['10.9.0.0/16'], deny: ['203.0.113.0/24'] },
  });
  // The firewall is left to `kiln network setup` on the host when the operator says so.
  const external = engineOptionsFromConfig(loadConfig({ KILN_BUILD_FIREWALL: 'external' }));
  expect(external.iptables).toBeDefined();
  expect(engineOptionsFromConfig(loadConfig({})).iptables).toBeUndefined();
});
