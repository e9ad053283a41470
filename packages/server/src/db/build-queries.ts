import type { BuildStatus, Queryable } from '@kiln/shared';
import type { BuildDetailsOut, BuildSummaryOut } from '../schemas/builds.js';

/** The API's reads of builds. Every value goes in as a parameter; column lists are constants. */
const SUMMARY = `b.id::text AS id, b.repo, b.branch, b.commit, b.package_name, b.package_version, b.trigger, b.status,
  b.attempt, b.agent, b.queued_at, b.started_at, b.finished_at, b.duration_ms::float8 AS duration_ms, b.error,
  b.rebuild_of::text AS rebuild_of, b.cancel_requested_at IS NOT NULL AS cancel_requested`;

interface SummaryRow {
  id: string;
  repo: string;
  branch: string | null;
  commit: string | null;
  package_name: string | null;
  package_version: string | null;
  trigger: string;
  status: BuildStatus;
  attempt: number;
  agent: string | null;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  error: string | null;
  rebuild_of: string | null;
  cancel_requested: boolean;
}

function toSummary(row: SummaryRow, arch: string): BuildSummaryOut {
  return {
    id: row.id,
    repo: row.repo,
    branch: row.branch,
    commit: row.commit,
    package: row.package_name && row.package_version ? { name: row.package_name, version: row.package_version } : null,
    arch,
    trigger: row.trigger,
    status: row.status,
    attempt: row.attempt,
    agent: row.agent,
    queuedAt: row.queued_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationMs: row.duration_ms,
    error: row.error,
    rebuildOf: row.rebuild_of,
    cancelRequested: row.cancel_requested,
  };
}

export interface BuildFilter {
  package?: string;
  status?: BuildStatus;
  /** The repository as the build recorded it (its clone URL or path). */
  repo?: string;
  /** Builds older than this one (keyset pagination: the previous page's `next`). */
  before?: string;
  limit: number;
}

/** Newest first; one row more than asked says whether there is a next page. */
export async function listBuilds(
  db: Queryable,
  filter: BuildFilter,
  arch: string,
): Promise<{ builds: BuildSummaryOut[]; next: string | null } | null> {
  let cursor: { queued_at: Date; id: string } | undefined;
  if (filter.before) {
    const found = await db.query<{ queued_at: Date; id: string }>(
      'SELECT queued_at, id::text AS id FROM builds WHERE id = $1',
      [filter.before],
    );
    cursor = found.rows[0];
    if (!cursor) return null;
  }
  const { rows } = await db.query<SummaryRow>(
    `SELECT ${SUMMARY} FROM builds b
      WHERE ($1::text IS NULL OR b.package_name = $1)
        AND ($2::text IS NULL OR b.status = $2)
        AND ($3::timestamptz IS NULL OR (b.queued_at, b.id) < ($3, $4::uuid))
        AND ($6::text IS NULL OR b.repo = $6)
      ORDER BY b.queued_at DESC, b.id DESC
      LIMIT $5`,
    [
      filter.package ?? null,
      filter.status ?? null,
      cursor?.queued_at ?? null,
      cursor?.id ?? null,
      filter.limit + 1,
      filter.repo ?? null,
    ],
  );
  const page = rows.slice(0, filter.limit).map((r) => toSummary(r, arch));
  return { builds: page, next: rows.length > filter.limit ? (page[page.length - 1]?.id ?? null) : null };
}

export async function getBuild(db: Queryable, id: string, arch: string): Promise<BuildDetailsOut | null> {
  const found = await db.query<
    SummaryRow & {
      failed_stage: string | null;
      failed_command: string | null;
      exit_code: number | null;
      heartbeat_at: Date | null;
    }
  >(`SELECT ${SUMMARY}, b.failed_stage, b.failed_command, b.exit_code, b.heartbeat_at FROM builds b WHERE b.id = $1`, [
    id,
  ]);
  const row = found.rows[0];
  if (!row) return null;
  const [stages, commands, files, pkg] = await Promise.all([
    db.query<{
      position: number;
      name: string;
      image: string | null;
      status: string;
      exit_code: number | null;
      started_at: Date | null;
      duration_ms: number | null;
      error: string | null;
    }>(
      `SELECT position, name, image, status, exit_code, started_at, duration_ms::float8 AS duration_ms, error
         FROM build_stages WHERE build_id = $1
          AND attempt = (SELECT GREATEST(attempt, 1) FROM builds WHERE id = $1) ORDER BY position`,
      [id],
    ),
    db.query<{
      stage_position: number;
      position: number;
      command: string;
      exit_code: number | null;
      started_at: Date | null;
      duration_ms: number | null;
    }>(
      `SELECT stage_position, position, command, exit_code, started_at, duration_ms::float8 AS duration_ms
         FROM build_commands WHERE build_id = $1
          AND attempt = (SELECT GREATEST(attempt, 1) FROM builds WHERE id = $1) ORDER BY stage_position, position`,
      [id],
    ),
    db.query<{ count: number; size: number }>(
      'SELECT count(*)::int AS count, COALESCE(sum(size), 0)::float8 AS size FROM package_files WHERE build_id = $1',
      [id],
    ),
    db.query<{ name: string; version: string; payload_sha256: string | null; artifact: string | null }>(
      'SELECT name, version, payload_sha256, artifact FROM packages WHERE build_id = $1',
      [id],
    ),
  ]);
  const current = pkg.rows[0];
  const failed = row.failed_stage !== null || row.failed_command !== null || row.exit_code !== null;
  return {
    ...toSummary(row, arch),
    failure: failed ? { stage: row.failed_stage, command: row.failed_command, exitCode: row.exit_code } : null,
    heartbeatAt: row.heartbeat_at?.toISOString() ?? null,
    stages: stages.rows.map((s) => ({
      position: s.position,
      name: s.name,
      image: s.image,
      status: s.status,
      exitCode: s.exit_code,
      startedAt: s.started_at?.toISOString() ?? null,
      durationMs: s.duration_ms,
      error: s.error,
      commands: commands.rows
        .filter((c) => c.stage_position === s.position)
        .map((c) => ({
          position: c.position,
          command: c.command,
          exitCode: c.exit_code,
          startedAt: c.started_at?.toISOString() ?? null,
          durationMs: c.duration_ms,
        })),
    })),
    files: { count: files.rows[0]?.count ?? 0, sizeBytes: files.rows[0]?.size ?? 0 },
    current: current !== undefined,
    artifact:
      current?.artifact != null
        ? { url: artifactUrl(current.name, current.version, arch), sha256: current.payload_sha256 }
        : null,
  };
}

/** Where the package repository serves a package's artifact, relative to the server's root. */
export function artifactUrl(name: string, version: string, arch: string): string {
  return `/repo/artifacts/${encodeURIComponent(`${name}-${version}-${arch}.tar.gz`)}`;
}

export async function buildExists(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM builds WHERE id = $1', [id]);
  return rows.length > 0;
}
