import { redactRepo, withTransaction, type BuildJob, type Pool, type Trigger } from '@kiln/shared';
import { newBuildJob } from '../outbox/build-job.js';
import type { ReleaseHead } from './ref-diff.js';
import type { RefStore } from './ref-store.js';

/**
 * One statement does the whole decision, so that two crawlers (or a crawler
 * and its restarted self) can never both create a build for one head:
 * `ON CONFLICT ... DO UPDATE ... WHERE commit <> EXCLUDED.commit` locks the
 * ref row and re-checks against the committed head, and only the rows it
 * really changed flow on into `builds` and `job_outbox`.
 *
 * A branch deleted and pushed again counts as new (it builds).
 */
const RECORD_HEADS = `
WITH input AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[])
    AS t(branch, commit, package_name, package_version, build_id, payload)
), changed AS (
  INSERT INTO repo_refs AS r (repo, branch, commit, package_name, package_version)
  SELECT $1, branch, commit, package_name, package_version FROM input
  ON CONFLICT (repo, branch) DO UPDATE
    SET commit = EXCLUDED.commit, package_name = EXCLUDED.package_name,
        package_version = EXCLUDED.package_version, updated_at = now(), deleted_at = NULL
    WHERE r.commit <> EXCLUDED.commit OR r.deleted_at IS NOT NULL
  RETURNING r.branch
), queued AS (
  INSERT INTO builds (id, repo, branch, commit, package_name, package_version, trigger, status)
  SELECT i.build_id, $1, i.branch, i.commit, i.package_name, i.package_version, $8, 'queued'
    FROM input i JOIN changed c ON c.branch = i.branch
  RETURNING id
)
INSERT INTO job_outbox (build_id, payload)
SELECT i.build_id, i.payload::jsonb FROM input i JOIN queued q ON q.id = i.build_id
RETURNING build_id`;

const RECORD_DELETED = `
UPDATE repo_refs SET deleted_at = now(), updated_at = now()
 WHERE repo = $1 AND branch = ANY($2::text[]) AND deleted_at IS NULL`;

export class PgRefStore implements RefStore {
  constructor(private readonly pool: Pool) {}

  async loadHeads(repo: string): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ branch: string; commit: string }>(
      'SELECT branch, commit FROM repo_refs WHERE repo = $1 AND deleted_at IS NULL',
      [redactRepo(repo)],
    );
    return new Map(rows.map((r) => [r.branch, r.commit]));
  }

  async record(
    repo: string,
    change: { moved: ReleaseHead[]; deleted: string[]; trigger: Trigger },
  ): Promise<BuildJob[]> {
    // The database names repositories without credentials; the job keeps the
    // location as configured, because the agent has to clone it.
    const key = redactRepo(repo);
    const jobs = change.moved.map((head) =>
      newBuildJob({ repo, branch: head.branch, commit: head.commit, package: head.package, trigger: change.trigger }),
    );
    return withTransaction(this.pool, async (db) => {
      let created: BuildJob[] = [];
      if (jobs.length > 0) {
        const { rows } = await db.query<{ build_id: string }>(RECORD_HEADS, [
          key,
          change.moved.map((h) => h.branch),
          change.moved.map((h) => h.commit),
          change.moved.map((h) => h.package.name),
          change.moved.map((h) => h.package.version),
          jobs.map((j) => j.id),
          jobs.map((j) => JSON.stringify(j)),
          change.trigger,
        ]);
        const ids = new Set(rows.map((r) => r.build_id));
        created = jobs.filter((j) => ids.has(j.id));
      }
      if (change.deleted.length > 0) await db.query(RECORD_DELETED, [key, change.deleted]);
      return created;
    });
  }
}
