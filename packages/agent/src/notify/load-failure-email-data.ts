import type { BuildFailure, BuildReport, BuildStatus, Manifest, Queryable, StageStatus } from '@kiln/shared';
import type { EmailStage, FailureEmailData } from './failure-email-data.js';
import { logTail, secretValues } from './log-tail.js';

export interface LogTailLimits {
  /** Lines of the log in the email (default 50). */
  lines?: number;
  /** Characters kept of each line (default 500). */
  lineLength?: number;
}

interface BuildRow {
  id: string;
  repo: string;
  branch: string | null;
  commit: string | null;
  package_name: string | null;
  package_version: string | null;
  status: BuildStatus;
  attempt: number;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: string | null;
  error: string | null;
  failed_stage: string | null;
  failed_command: string | null;
  exit_code: number | null;
  manifest: Partial<Manifest> | null;
  report: Partial<BuildReport> | null;
}

// Log chunks are read newest first, a few at a time, until enough lines are in
// hand: a huge log costs no more than its tail.
const CHUNK_BATCH = 32;
const MAX_TAIL_BYTES = 256 * 1024;

/** Reads what the agent wrote for a build; null when the build is gone. */
export async function loadFailureEmailData(
  db: Queryable,
  buildId: string,
  limits: LogTailLimits = {},
): Promise<FailureEmailData | null> {
  const build = (
    await db.query<BuildRow>(
      `SELECT id, repo, branch, commit, package_name, package_version, status, attempt, started_at, finished_at,
              duration_ms::text AS duration_ms, error, failed_stage, failed_command, exit_code, manifest, report
         FROM builds WHERE id = $1`,
      [buildId],
    )
  ).rows[0];
  if (!build) return null;

  const stageRows = await db.query<{
    position: number;
    name: string;
    status: StageStatus;
    exit_code: number | null;
    duration_ms: string | null;
    error: string | null;
  }>(
    `SELECT position, name, status, exit_code, duration_ms::text AS duration_ms, error
       FROM build_stages WHERE build_id = $1
         AND attempt = (SELECT GREATEST(attempt, 1) FROM builds WHERE id = $1) ORDER BY position`,
    [buildId],
  );
  const commandRows = await db.query<{
    stage_position: number;
    command: string;
    exit_code: number | null;
    duration_ms: string | null;
  }>(
    `SELECT stage_position, command, exit_code, duration_ms::text AS duration_ms
       FROM build_commands WHERE build_id = $1
         AND attempt = (SELECT GREATEST(attempt, 1) FROM builds WHERE id = $1) ORDER BY stage_position, position`,
    [buildId],
  );
  const reportStages = Array.isArray(build.report?.stages) ? build.report.stages : [];
  let stages: EmailStage[] = stageRows.rows.map((s) => ({
    name: s.name,
    status: s.status,
    exitCode: s.exit_code,
    durationMs: toNumber(s.duration_ms),
    error: s.error ?? reportStages.find((r) => r.name === s.name)?.error ?? null,
    commands: commandRows.rows
      .filter((c) => c.stage_position === s.position)
      .map((c) => ({ command: c.command, exitCode: c.exit_code, durationMs: toNumber(c.duration_ms) })),
  }));
  if (stages.length === 0) {
    // An agent that stored only the report still gives the maintainer the stages.
    stages = reportStages.map((s) => ({
      name: s.name,
      status: s.status,
      exitCode: s.exitCode,
      durationMs: s.durationMs,
      error: s.error ?? null,
      commands: (s.commands ?? []).map((c) => ({ command: c.command, exitCode: c.exitCode, durationMs: c.durationMs })),
    }));
  }

  const vars = Array.isArray(build.manifest?.environment?.vars) ? build.manifest.environment.vars : [];
  const lines = limits.lines ?? 50;
  const tail = logTail(lines > 0 ? await readLogEnd(db, buildId, build.attempt, lines) : '', {
    maxLines: lines,
    maxLineLength: limits.lineLength ?? 500,
    secrets: secretValues(vars),
  });

  return {
    buildId: build.id,
    status: build.status,
    repo: build.repo,
    branch: build.branch,
    commit: build.commit,
    packageName: build.package_name,
    packageVersion: build.package_version,
    attempt: build.attempt,
    startedAt: build.started_at,
    finishedAt: build.finished_at,
    durationMs: toNumber(build.duration_ms) ?? build.report?.durationMs ?? null,
    error: build.error ?? build.report?.error ?? null,
    failedStage: build.failed_stage,
    failedCommand: build.failed_command,
    exitCode: build.exit_code,
    failure: (build.report?.failure as BuildFailure | undefined) ?? null,
    stages,
    flags: Array.isArray(build.report?.flags) ? build.report.flags : [],
    analysis: build.report?.analysis ?? null,
    logTail: tail.lines,
    logTruncated: tail.truncated,
  };
}

/**
 * The end of the log of the attempt that produced the result (the build's
 * `attempt`, else the latest one that logged anything), at least `lines` lines
 * plus one so the caller can tell whether there was more.
 */
async function readLogEnd(db: Queryable, buildId: string, attempt: number, lines: number): Promise<string> {
  const which = await db.query<{ attempt: number }>(
    `SELECT attempt FROM build_logs WHERE build_id = $1 ORDER BY attempt = $2 DESC, attempt DESC LIMIT 1`,
    [buildId, attempt],
  );
  const logAttempt = which.rows[0]?.attempt;
  if (logAttempt === undefined) return '';
  let text = '';
  let before = 2 ** 31 - 1;
  for (;;) {
    const batch = await db.query<{ seq: number; chunk: string }>(
      `SELECT seq, right(chunk, $4) AS chunk FROM build_logs
        WHERE build_id = $1 AND attempt = $2 AND seq < $3 ORDER BY seq DESC LIMIT ${CHUNK_BATCH}`,
      [buildId, logAttempt, before, MAX_TAIL_BYTES],
    );
    for (const row of batch.rows) text = row.chunk + text;
    const last = batch.rows[batch.rows.length - 1];
    if (!last || batch.rows.length < CHUNK_BATCH || countLines(text) > lines + 1 || text.length >= MAX_TAIL_BYTES)
      break;
    before = last.seq;
  }
  return text;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function toNumber(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
