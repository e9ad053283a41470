import { randomUUID } from 'node:crypto';
import { BuildJobSchema, type BuildJob, type ReleaseBranch, type Trigger } from '@kiln/shared';

/**
 * The full BuildJob for a head, with a fresh id: the build's id and the
 * idempotency key agents dedupe on. Parsed through the shared schema so that
 * nothing leaves the crawler that an agent would dead-letter.
 */
export function newBuildJob(fields: {
  repo: string;
  branch?: string;
  commit?: string;
  package?: ReleaseBranch;
  trigger: Trigger;
  /** A Debian arch name: this arch only. */
  arch?: string;
  now?: Date;
}): BuildJob & { id: string } {
  const job = BuildJobSchema.parse({
    id: randomUUID(),
    repo: fields.repo,
    ...(fields.branch === undefined ? {} : { branch: fields.branch }),
    ...(fields.commit === undefined ? {} : { commit: fields.commit }),
    ...(fields.package === undefined
      ? {}
      : { package: { name: fields.package.name, version: fields.package.version } }),
    trigger: fields.trigger,
    ...(fields.arch === undefined ? {} : { arch: fields.arch }),
    requestedAt: (fields.now ?? new Date()).toISOString(),
  });
  return job as BuildJob & { id: string };
}
