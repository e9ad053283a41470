import { randomUUID } from 'node:crypto';
import {
  QUEUED_BUILD_COLUMNS,
  queuedBuildValues,
  repoIdentity,
  type BuildDiff,
  type BuildJob,
  type Queryable,
} from '@kiln/shared';

export interface RebuildPolicy {
  /** Repositories (identities, or `*`) whose builds may trigger rebuilds; empty: off. */
  repos: readonly string[];
  /** Also when a file behind a provided SONAME changed. */
  onLibraryChange: boolean;
  /** Farm-wide cap on dependency rebuilds queued per hour. */
  perHour: number;
}

/** The SONAMEs whose providers changed in `diff`: added or removed, and (opted in) changed files behind one. */
export function changedSonames(
  diff: BuildDiff,
  providing: ReadonlyMap<string, string>,
  onLibraryChange: boolean,
): string[] {
  const names = new Set([...diff.provides.added, ...diff.provides.removed]);
  if (onLibraryChange) {
    for (const f of diff.files.changed) {
      const soname = providing.get(f.path);
      if (soname) names.add(soname);
    }
  }
  return [...names].sort();
}

/**
 * Queues rebuilds of the current versions of the packages whose files need
 * one of `sonames` (as `queued` builds with an outbox entry: the crawler's
 * relay publishes them), in the same transaction as the triggering build's
 * record. Each package at most once per triggering build; never a package
 * already in the chain of builds that led here (cycles end); at most
 * `perHour` an hour. Returns the queued build ids.
 */
export async function queueDependents(
  db: Queryable,
  /** The triggering build; its arch (when known) is the only one rebuilt. */
  trigger: { id: string; packageName: string; repo: string; arch?: string | null },
  sonames: readonly string[],
  policy: RebuildPolicy,
): Promise<string[]> {
  if (sonames.length === 0 || !optedIn(trigger.repo, policy.repos)) return [];
  const recent = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM builds WHERE trigger = 'dependency' AND queued_at > now() - interval '1 hour'`,
  );
  const room = policy.perHour - Number(recent.rows[0]?.n ?? 0);
  if (room <= 0) return [];
  const rows = await currentDependents(db, trigger.id, sonames, room, trigger.arch ?? null);
  const queued: string[] = [];
  for (const row of rows) {
    const job: BuildJob & { id: string } = {
      id: randomUUID(),
      repo: row.repo,
      ...(row.branch ? { branch: row.branch } : {}),
      ...(row.commit ? { commit: row.commit } : {}),
      package: { name: row.name, version: row.version },
      ...(trigger.arch ? { arch: trigger.arch } : {}),
      trigger: 'dependency',
      requestedAt: new Date().toISOString(),
    };
    await db.query(
      `WITH queued AS (
         INSERT INTO builds (${QUEUED_BUILD_COLUMNS}, status, triggered_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $10) RETURNING id)
       INSERT INTO job_outbox (build_id, payload) SELECT id, $9::jsonb FROM queued`,
      [...queuedBuildValues(job), JSON.stringify(job), trigger.id],
    );
    queued.push(job.id);
  }
  return queued;
}

interface Dependent {
  name: string;
  version: string;
  repo: string;
  branch: string | null;
  commit: string | null;
}

/**
 * The current versions of the packages whose files need one of `sonames`
 * (read from package_needs, migrations 012 and 018), for `arch` (null: any), minus the packages in the chain of
 * builds that led to `triggerId` and those it already queued; at most `limit`.
 * Read from the current builds' rows only: a package whose newest version
 * needs one has such a row, so the names there are the candidates, and the
 * newest version of each must be one of the builds found there. A name's
 * newest version is found by walking its builds newest first
 * (builds_package_queued_idx) to the first that is a current package, one
 * lookup each (OFFSET 0): usually the first, however many versions it has.
 * (Reading every version instead made the planner's estimate so high that
 * PostgreSQL compiled the query with JIT, a second per call.)
 */
export async function currentDependents(
  db: Queryable,
  triggerId: string,
  sonames: readonly string[],
  limit: number,
  arch: string | null = null,
): Promise<Dependent[]> {
  const { rows } = await db.query<Dependent>(
    `WITH RECURSIVE chain(id, package_name, triggered_by) AS (
       SELECT id, package_name, triggered_by FROM builds WHERE id = $1
       UNION
       SELECT b.id, b.package_name, b.triggered_by FROM builds b JOIN chain c ON b.id = c.triggered_by
     ),
     needing AS (
       SELECT DISTINCT n.package_name AS name, n.build_id FROM package_needs n
        WHERE n.soname = ANY($2::text[]) AND n.current_arch IS NOT NULL AND ($4::text IS NULL OR n.current_arch = $4)
     ),
     current AS (
       SELECT c.name, cur.version, cur.build_id
         FROM (SELECT DISTINCT name FROM needing) c
        CROSS JOIN LATERAL (SELECT p.version, p.build_id
                              FROM builds b
                             CROSS JOIN LATERAL (SELECT p.version, p.build_id FROM packages p
                                                  WHERE p.build_id = b.id AND p.name = c.name
                                                    AND ($4::text IS NULL OR p.arch = $4) OFFSET 0) p
                             WHERE b.package_name = c.name
                             ORDER BY b.queued_at DESC LIMIT 1) cur
     )
     SELECT c.name, c.version, b.repo, b.branch, b.commit
       FROM current c JOIN builds b ON b.id = c.build_id
      WHERE c.name NOT IN (SELECT package_name FROM chain WHERE package_name IS NOT NULL)
        AND c.build_id IN (SELECT build_id FROM needing)
        AND NOT EXISTS (SELECT 1 FROM builds q WHERE q.triggered_by = $1 AND q.package_name = c.name)
      ORDER BY c.name
      LIMIT $3`,
    [triggerId, sonames, limit, arch],
  );
  return rows;
}

function optedIn(repo: string, repos: readonly string[]): boolean {
  const wanted = repoIdentity(repo);
  return repos.some((r) => r === '*' || repoIdentity(r) === wanted);
}
