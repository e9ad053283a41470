import type { BuildStatus, Queryable } from '@kiln/shared';

export type ClaimResult =
  | { kind: 'claimed'; attempt: number; queuedAt: Date; startedAt: Date }
  | { kind: 'finished'; status: BuildStatus }
  | { kind: 'busy'; agent: string | null; attempt: number; leaseExpiresAt: Date | null }
  | { kind: 'missing' };

export const FINISHED_STATUSES: readonly BuildStatus[] = ['succeeded', 'failed', 'errored', 'cancelled'];
const FINISHED = FINISHED_STATUSES as readonly string[];

/**
 * Takes the build for this agent if it is queued, or running under a lease
 * that ran out (its agent died). Idempotent: a duplicate delivery of a
 * finished build learns so and builds nothing.
 */
export async function claimBuild(db: Queryable, buildId: string, agent: string, leaseMs: number): Promise<ClaimResult> {
  // Cancelled through kiln server while waiting, or while its agent was dead: it ends here, unbuilt.
  await db.query(
    `UPDATE builds SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL,
            error = COALESCE(error, 'cancelled on request')
      WHERE id = $1 AND cancel_requested_at IS NOT NULL
        AND (status = 'queued' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())))`,
    [buildId],
  );
  const claimed = await db.query<{ attempt: number; queued_at: Date; started_at: Date }>(
    `UPDATE builds
        SET status = 'running', attempt = attempt + 1, agent = $2,
            lease_expires_at = now() + $3 * interval '1 millisecond', heartbeat_at = now(),
            started_at = now(), finished_at = NULL, duration_ms = NULL, error = NULL,
            failed_stage = NULL, failed_command = NULL, exit_code = NULL, report = NULL
      WHERE id = $1
        AND (status = 'queued' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())))
      RETURNING attempt, queued_at, started_at`,
    [buildId, agent, leaseMs],
  );
  const row = claimed.rows[0];
  if (row) {
    // What an earlier attempt recorded live belongs to that attempt only.
    await db.query('DELETE FROM build_commands WHERE build_id = $1', [buildId]);
    await db.query('DELETE FROM build_stages WHERE build_id = $1', [buildId]);
    return { kind: 'claimed', attempt: row.attempt, queuedAt: row.queued_at, startedAt: row.started_at };
  }
  const current = await db.query<{
    status: BuildStatus;
    agent: string | null;
    attempt: number;
    lease_expires_at: Date | null;
  }>('SELECT status, agent, attempt, lease_expires_at FROM builds WHERE id = $1', [buildId]);
  const now = current.rows[0];
  if (!now) return { kind: 'missing' };
  if (FINISHED.includes(now.status)) return { kind: 'finished', status: now.status };
  return { kind: 'busy', agent: now.agent, attempt: now.attempt, leaseExpiresAt: now.lease_expires_at };
}
