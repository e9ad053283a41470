import { isSafeRefName, parseReleaseBranch, type ReleaseBranch } from '@kiln/shared';
import type { Heads } from '../git/ls-remote.js';

export interface ReleaseHead {
  branch: string;
  commit: string;
  package: ReleaseBranch;
}

export interface RefChanges {
  /** Release branches that are new, or whose head moved (a hotfix): each becomes a build. */
  moved: ReleaseHead[];
  /** Release branches that were known and are gone: recorded, never built. */
  deleted: string[];
  /** Branch names that could be dangerous to pass on (option-looking, odd characters): never used, only reported. */
  unsafe: string[];
}

/**
 * Compares what a server advertises with the release heads the crawler knows
 * for that repository. Every other branch (`main`, `feature-x`) is ignored.
 */
export function diffRefs(known: ReadonlyMap<string, string>, seen: Heads): RefChanges {
  const changes: RefChanges = { moved: [], deleted: [], unsafe: [] };
  for (const [branch, commit] of seen) {
    if (known.get(branch) === commit) continue;
    if (!isSafeRefName(branch)) {
      changes.unsafe.push(branch);
      continue;
    }
    const release = parseReleaseBranch(branch);
    if (release) changes.moved.push({ branch, commit, package: release });
  }
  for (const branch of known.keys()) {
    if (!seen.has(branch)) changes.deleted.push(branch);
  }
  return changes;
}

export function hasChanges(changes: RefChanges): boolean {
  return changes.moved.length > 0 || changes.deleted.length > 0;
}
