import {
  InvalidInputError,
  type ArtifactFormat,
  type BuildAnalysis,
  type BuildStatus,
  type FileKind,
  type InstalledFile,
  type PhaseTiming,
  type PolicyFlag,
  type Queryable,
} from '@kiln/shared';
import { readPhases } from './phase-reader.js';

/** The package database as `kiln status` and `kiln logs` read it. */
export interface BuildSummary {
  id: string;
  repo: string;
  branch: string | null;
  commit: string | null;
  package: { name: string; version: string } | null;
  trigger: string;
  status: BuildStatus;
  attempt: number;
  agent: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  /**
   * Running, but its agent stopped renewing the lease: it died or lost the
   * database. The next agent that receives the job takes it over; if the
   * broker dead-lettered the job instead (delivery limit), it stays so.
   */
  stalled: boolean;
}

export interface CommandDetails {
  position: number;
  command: string;
  exitCode: number | null;
  startedAt: string | null;
  durationMs: number | null;
}

export interface StageDetails {
  position: number;
  name: string;
  image: string | null;
  status: string;
  exitCode: number | null;
  startedAt: string | null;
  durationMs: number | null;
  error: string | null;
  commands: CommandDetails[];
}

export interface BuildDetails extends BuildSummary {
  failedStage: string | null;
  failedCommand: string | null;
  exitCode: number | null;
  heartbeatAt: string | null;
  /** What the content policy flagged in the payload. */
  flags: PolicyFlag[];
  /** Provides, unresolved needs, policy findings, what changed (report `analysis`). */
  analysis: BuildAnalysis | null;
  stages: StageDetails[];
  /** The files this build installed, and whether `packages` points at it. */
  files: { count: number; sizeBytes: number; list: InstalledFile[] };
  current: boolean;
  artifact: { path: string | null; sha256: string | null; format: ArtifactFormat | null } | null;
  /** Where the current attempt's time went (build_phases). */
  timings: PhaseTiming[];
}

export interface LogLine {
  seq: number;
  stage: string | null;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

const SUMMARY_COLUMNS = `id::text AS id, repo, branch, commit, package_name, package_version, trigger, status, attempt, agent,
  queued_at, started_at, finished_at, duration_ms::float8 AS duration_ms, error,
  (status = 'running' AND lease_expires_at < now()) AS stalled`;

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
  stalled: boolean | null;
}

function toSummary(row: SummaryRow): BuildSummary {
  return {
    id: row.id,
    repo: row.repo,
    branch: row.branch,
    commit: row.commit,
    package: row.package_name && row.package_version ? { name: row.package_name, version: row.package_version } : null,
    trigger: row.trigger,
    status: row.status,
    attempt: row.attempt,
    agent: row.agent,
    queuedAt: row.queued_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationMs: row.duration_ms,
    error: row.error,
    stalled: row.stalled === true,
  };
}

export async function listBuilds(
  db: Queryable,
  options: { limit?: number; status?: BuildStatus } = {},
): Promise<BuildSummary[]> {
  const result = await db.query<SummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM builds WHERE ($2::text IS NULL OR status = $2) ORDER BY queued_at DESC, id LIMIT $1`,
    [options.limit ?? 20, options.status ?? null],
  );
  return result.rows.map(toSummary);
}

/**
 * A build id as people type it: the full UUID or a unique prefix of at least
 * 4 hex digits (what `kiln status` shows). Null when none matches.
 */
export async function resolveBuildId(db: Queryable, idOrPrefix: string): Promise<string | null> {
  const text = idOrPrefix.trim().toLowerCase();
  if (!/^[0-9a-f-]{4,36}$/.test(text)) {
    throw new InvalidInputError(
      `"${idOrPrefix.slice(0, 60)}" is not a build id (a UUID, or its first characters as "kiln status" shows them)`,
    );
  }
  const result = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM builds WHERE id::text LIKE $1 || '%' ORDER BY queued_at DESC LIMIT 2`,
    [text],
  );
  if (result.rows.length > 1 && result.rows[0]?.id !== text) {
    throw new InvalidInputError(`build id prefix "${text}" is ambiguous: give more characters`);
  }
  return result.rows[0]?.id ?? null;
}

export async function getBuild(db: Queryable, id: string): Promise<BuildDetails | null> {
  const found = await db.query<
    SummaryRow & {
      failed_stage: string | null;
      failed_command: string | null;
      exit_code: number | null;
      heartbeat_at: Date | null;
      policy_flags: PolicyFlag[] | null;
      analysis: BuildAnalysis | null;
    }
  >(
    `SELECT ${SUMMARY_COLUMNS}, failed_stage, failed_command, exit_code, heartbeat_at, policy_flags,
            report->'analysis' AS analysis FROM builds WHERE id = $1`,
    [id],
  );
  const row = found.rows[0];
  if (!row) return null;
  const [stages, commands, files, pkg, timings] = await Promise.all([
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
      'SELECT position, name, image, status, exit_code, started_at, duration_ms::float8 AS duration_ms, error FROM build_stages WHERE build_id = $1 ORDER BY position',
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
      'SELECT stage_position, position, command, exit_code, started_at, duration_ms::float8 AS duration_ms FROM build_commands WHERE build_id = $1 ORDER BY stage_position, position',
      [id],
    ),
    db.query<{
      path: string;
      size: number;
      mode: string;
      sha256: string | null;
      kind: FileKind;
      linkage: 'static' | 'dynamic' | null;
      needed: string[] | null;
      target: string | null;
    }>(
      'SELECT path, size::float8 AS size, mode, sha256, kind, linkage, needed, target FROM package_files WHERE build_id = $1 ORDER BY path',
      [id],
    ),
    db.query<{ artifact: string | null; payload_sha256: string | null; artifact_format: ArtifactFormat | null }>(
      'SELECT artifact, payload_sha256, artifact_format FROM packages WHERE build_id = $1',
      [id],
    ),
    readPhases(db, id, row.attempt),
  ]);
  const current = pkg.rows[0];
  return {
    ...toSummary(row),
    failedStage: row.failed_stage,
    failedCommand: row.failed_command,
    flags: row.policy_flags ?? [],
    analysis: row.analysis ?? null,
    exitCode: row.exit_code,
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
    files: {
      count: files.rows.length,
      sizeBytes: files.rows.reduce((sum, f) => sum + f.size, 0),
      list: files.rows.map((f) => ({
        path: f.path,
        size: f.size,
        mode: f.mode,
        kind: f.kind,
        ...(f.sha256 ? { sha256: f.sha256 } : {}),
        ...(f.linkage ? { linkage: f.linkage } : {}),
        ...(f.needed ? { needed: f.needed } : {}),
        ...(f.target ? { target: f.target } : {}),
      })),
    },
    current: current !== undefined,
    artifact: current
      ? { path: current.artifact, sha256: current.payload_sha256, format: current.artifact_format }
      : null,
    timings,
  };
}

/** The attempt whose log is shown: the build's current one if it logged anything, else the last that did. */
export async function logAttempt(db: Queryable, id: string): Promise<number | null> {
  const result = await db.query<{ attempt: number | null }>(
    `SELECT COALESCE(
       (SELECT b.attempt FROM builds b WHERE b.id = $1 AND EXISTS (SELECT 1 FROM build_logs l WHERE l.build_id = b.id AND l.attempt = b.attempt)),
       (SELECT max(attempt) FROM build_logs WHERE build_id = $1)) AS attempt`,
    [id],
  );
  return result.rows[0]?.attempt ?? null;
}

export async function readLog(
  db: Queryable,
  id: string,
  attempt: number,
  afterSeq = -1,
  limit = 500,
): Promise<LogLine[]> {
  const result = await db.query<{ seq: number; stage: string | null; stream: LogLine['stream']; chunk: string }>(
    'SELECT seq, stage, stream, chunk FROM build_logs WHERE build_id = $1 AND attempt = $2 AND seq > $3 ORDER BY seq LIMIT $4',
    [id, attempt, afterSeq, limit],
  );
  return result.rows.map((r) => ({ seq: r.seq, stage: r.stage, stream: r.stream, text: r.chunk }));
}

export async function buildState(db: Queryable, id: string): Promise<{ status: BuildStatus; attempt: number } | null> {
  const result = await db.query<{ status: BuildStatus; attempt: number }>(
    'SELECT status, attempt FROM builds WHERE id = $1',
    [id],
  );
  return result.rows[0] ?? null;
}
