import type Docker from 'dockerode';

/** Capabilities a root build needs to install packages (apt drops to its own user, dpkg sets owners). */
export const BUILD_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETUID', 'SETGID', 'KILL'];

/** What the operator allows build containers beyond the locked-down default. */
export interface ContainerPolicy {
  /** KILN_ALLOW_PRIVILEGED: builds that need it (e.g. to mount file systems) run privileged. */
  privileged: boolean;
}

/**
 * Locked down unless the operator says otherwise: every capability dropped
 * but the few a root package install needs, and no gaining privileges
 * through setuid binaries. Resource limits apply either way.
 */
export function privilegeSettings(
  policy: ContainerPolicy,
): Pick<Docker.HostConfig, 'Privileged' | 'CapDrop' | 'CapAdd' | 'SecurityOpt'> {
  if (policy.privileged) return { Privileged: true };
  return { Privileged: false, CapDrop: ['ALL'], CapAdd: BUILD_CAPABILITIES, SecurityOpt: ['no-new-privileges'] };
}
