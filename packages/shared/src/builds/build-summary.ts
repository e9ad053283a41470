import type { BuildStatus } from '../report.js';

/** A build as the package database holds it: the row `kiln status`, `kiln logs` and `kiln server` show. */
export interface BuildSummary {
  id: string;
  repo: string;
  branch: string | null;
  commit: string | null;
  package: { name: string; version: string } | null;
  /** The Debian arch it builds for; null while its job waits to be routed (its manifest not read yet). */
  arch: string | null;
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
  /** The build this one rebuilds (`POST /builds/{id}/rebuild`). */
  rebuildOf: string | null;
  /** Someone asked to cancel it; the agent running it stops it. */
  cancelRequested: boolean;
}

/**
 * A timestamp column as JavaScript's ISO form (`2026-01-02T03:04:05.678Z`),
 * written by PostgreSQL: cheaper than parsing it into a Date and printing it
 * again for every row of every page.
 */
export function isoTime(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** The columns of `builds` (aliased `b`) a summary is made of, as one constant list. */
export const SUMMARY_COLUMNS = `b.id::text AS id, b.repo, b.branch, b.commit, b.package_name, b.package_version, b.arch, b.trigger,
  b.status, b.attempt, b.agent, ${isoTime('b.queued_at')} AS queued_at, ${isoTime('b.started_at')} AS started_at,
  ${isoTime('b.finished_at')} AS finished_at, b.duration_ms::float8 AS duration_ms, b.error,
  (b.status = 'running' AND b.lease_expires_at < now()) AS stalled, b.rebuild_of::text AS rebuild_of,
  b.cancel_requested_at IS NOT NULL AS cancel_requested`;

export interface SummaryRow {
  id: string;
  repo: string;
  branch: string | null;
  commit: string | null;
  package_name: string | null;
  package_version: string | null;
  arch: string | null;
  trigger: string;
  status: BuildStatus;
  attempt: number;
  agent: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  stalled: boolean | null;
  rebuild_of: string | null;
  cancel_requested: boolean;
}

export function toSummary(row: SummaryRow): BuildSummary {
  return {
    id: row.id,
    repo: row.repo,
    branch: row.branch,
    commit: row.commit,
    package: row.package_name && row.package_version ? { name: row.package_name, version: row.package_version } : null,
    arch: row.arch,
    trigger: row.trigger,
    status: row.status,
    attempt: row.attempt,
    agent: row.agent,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    error: row.error,
    stalled: row.stalled === true,
    rebuildOf: row.rebuild_of,
    cancelRequested: row.cancel_requested,
  };
}
