import type { Queryable } from '../db/queryable.js';
import { compareBuilds, type BuildDiff, type BuildSide } from './build-diff.js';
import { FILE_FACT_COLUMNS, fileFromRow, type FileFactRow } from './file-facts-row.js';

/** A recorded build's files and command times, or null when there is no such build. */
export async function loadBuildSide(db: Queryable, id: string): Promise<BuildSide | null> {
  const build = await db.query<{ package_version: string | null }>('SELECT package_version FROM builds WHERE id = $1', [
    id,
  ]);
  const row = build.rows[0];
  if (!row) return null;
  const [files, commands] = await Promise.all([
    db.query<FileFactRow>(`SELECT ${FILE_FACT_COLUMNS} FROM package_files f WHERE f.build_id = $1 ORDER BY f.path`, [
      id,
    ]),
    db.query<{ stage: string; command: string; duration_ms: string | null }>(
      `SELECT s.name AS stage, c.command, c.duration_ms FROM build_commands c
         JOIN build_stages s ON s.build_id = c.build_id AND s.position = c.stage_position
        WHERE c.build_id = $1 ORDER BY c.stage_position, c.position`,
      [id],
    ),
  ]);
  return {
    id,
    version: row.package_version,
    files: files.rows.map(fileFromRow),
    commands: commands.rows.map((c) => ({
      stage: c.stage,
      command: c.command,
      durationMs: c.duration_ms === null ? null : Number(c.duration_ms),
    })),
  };
}

/**
 * The build to compare `id` with: the previous succeeded build of the same
 * package version (a hotfix), else the latest succeeded build of another
 * version queued before it.
 */
export async function previousBuild(
  db: Queryable,
  id: string,
): Promise<{ id: string; basis: 'hotfix' | 'previous-version' } | null> {
  const { rows } = await db.query<{ id: string; hotfix: boolean }>(
    `SELECT p.id, p.package_version = b.package_version AS hotfix
       FROM builds b
       JOIN builds p ON p.package_name = b.package_name AND p.status = 'succeeded' AND p.id <> b.id
                    AND (p.queued_at, p.id) < (b.queued_at, b.id)
      WHERE b.id = $1 AND b.package_name IS NOT NULL
      ORDER BY (p.package_version = b.package_version) DESC, p.queued_at DESC, p.id DESC
      LIMIT 1`,
    [id],
  );
  const row = rows[0];
  return row ? { id: row.id, basis: row.hotfix ? 'hotfix' : 'previous-version' } : null;
}

/** The stored diff of a build (made when it was recorded), or null. */
export async function storedDiff(db: Queryable, id: string): Promise<BuildDiff | null> {
  const { rows } = await db.query<{ diff: BuildDiff }>('SELECT diff FROM build_diffs WHERE build_id = $1', [id]);
  return rows[0]?.diff ?? null;
}

export async function storeDiff(db: Queryable, diff: BuildDiff): Promise<void> {
  await db.query(
    `INSERT INTO build_diffs (build_id, against_id, diff) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (build_id) DO UPDATE SET against_id = EXCLUDED.against_id, diff = EXCLUDED.diff, created_at = now()`,
    [diff.build, diff.against, JSON.stringify(diff)],
  );
}

export type DiffLookup = { diff: BuildDiff } | { missing: 'build' | 'against' | 'nothing-to-compare' };

/**
 * A build's diff: against `against` when given (computed now), else the one
 * stored when it was recorded (or computed against its previous build).
 */
export async function diffOf(db: Queryable, id: string, against?: string): Promise<DiffLookup> {
  const after = await loadBuildSide(db, id);
  if (!after) return { missing: 'build' };
  if (against === undefined) {
    const stored = await storedDiff(db, id);
    if (stored) return { diff: stored };
    const previous = await previousBuild(db, id);
    if (!previous) return { missing: 'nothing-to-compare' };
    const before = await loadBuildSide(db, previous.id);
    return before ? { diff: compareBuilds(before, after, previous.basis) } : { missing: 'nothing-to-compare' };
  }
  const before = await loadBuildSide(db, against);
  return before ? { diff: compareBuilds(before, after, 'chosen') } : { missing: 'against' };
}
