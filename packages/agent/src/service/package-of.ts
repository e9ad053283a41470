import { parseReleaseBranch, type Manifest } from '@kiln/shared';
import type { JobWithId } from './store/index.js';

/** The package a build makes: the manifest's words first, then the job's, then the branch name's. */
export function packageOf(
  job: JobWithId,
  branch: string | null,
  manifest: Manifest | null,
): { name: string; version: string } | null {
  const fromBranch = branch ? parseReleaseBranch(branch) : null;
  const name = manifest?.package.name ?? job.package?.name ?? fromBranch?.name;
  const version = manifest?.package.version ?? job.package?.version ?? fromBranch?.version;
  return name && version ? { name, version } : null;
}
