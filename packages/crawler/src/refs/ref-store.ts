import type { BuildJob, Trigger } from '@kiln/shared';
import type { ReleaseHead } from './ref-diff.js';

/**
 * The crawler's memory of release heads, and the one place a new head turns
 * into a build. `record` is atomic: the head, the queued build and the job to
 * publish are stored together or not at all.
 */
export interface RefStore {
  /** Release heads currently known (not deleted) for one repository. */
  loadHeads(repo: string): Promise<Map<string, string>>;
  /**
   * Stores new and moved heads and deleted branches. Returns the jobs of the
   * builds it created: a head that is already recorded with the same commit
   * (another crawler got there first, or a restart) creates none.
   */
  record(repo: string, change: { moved: ReleaseHead[]; deleted: string[]; trigger: Trigger }): Promise<BuildJob[]>;
}
