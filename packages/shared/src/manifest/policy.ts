import { z } from 'zod';

/** What a policy finding does: `warn` records it; `fail` (also spelled `error`) fails the build. */
export type PolicyLevel = 'warn' | 'fail';

/**
 * The manifest's `policy:` section. `content` is the content policy (setuid
 * files, account files, ...); the rest judge linkage and hardening:
 * `needs`: a needed library no package and no build image provides;
 * `hardening`: a file lost RELRO, PIE, BIND_NOW, its non-executable stack,
 * gained a RUNPATH or became static since the previous build;
 * `setuid`: a setuid or setgid file; `runpath`: a RUNPATH outside the
 * package's own directories; `static`: a statically linked executable.
 * Every one warns unless set to `fail`, except `machine` (an executable or
 * shared library for another machine than the build's arch), which fails
 * unless set to `warn`: a host binary in another arch's package is broken.
 */
export interface ManifestPolicy {
  content?: PolicyLevel;
  needs?: PolicyLevel;
  hardening?: PolicyLevel;
  setuid?: PolicyLevel;
  runpath?: PolicyLevel;
  static?: PolicyLevel;
  machine?: PolicyLevel;
}

const level = z
  .enum(['warn', 'fail', 'error'], { message: 'must be warn, fail or error' })
  .transform((v): PolicyLevel => (v === 'error' ? 'fail' : v));

export const POLICY_SCHEMA = z.strictObject({
  content: z.enum(['warn', 'fail'], { message: 'must be warn or fail' }).optional(),
  needs: level.optional(),
  hardening: level.optional(),
  setuid: level.optional(),
  runpath: level.optional(),
  static: level.optional(),
  machine: level.optional(),
});

/** The policy as given, without keys that were not set. */
export function toPolicy(raw: z.infer<typeof POLICY_SCHEMA> | undefined): ManifestPolicy | undefined {
  if (!raw) return undefined;
  const policy = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as ManifestPolicy;
  return Object.keys(policy).length > 0 ? policy : undefined;
}
