import { loadConfig } from '@kiln/shared';
import { engineOptionsFromConfig } from './build-engine.js';
import { BUILD_CAPABILITIES, privilegeSettings } from './docker-runtime.js';

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
