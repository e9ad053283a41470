import type { Queryable } from '@kiln/shared';
import type { AttemptRef } from './attempt.js';

/** Renews the lease; false when this attempt no longer owns the build. */
export async function renewLease(db: Queryable, ref: AttemptRef, leaseMs: number): Promise<boolean> {
  const result = await db.query(
    `UPDATE builds SET heartbeat_at = now(), lease_expires_at = now() + $4 * interval '1 millisecond'
      WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'`,
    [ref.buildId, ref.attempt, ref.agent, leaseMs],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Whether kiln server was asked to cancel this build. */
export async function cancelRequested(db: Queryable, buildId: string): Promise<boolean> {
  const { rows } = await db.query<{ asked: boolean }>(
    'SELECT cancel_requested_at IS NOT NULL AS asked FROM builds WHERE id = $1',
    [buildId],
  );
  return rows[0]?.asked === true;
}

/** Gives the build back to the queue (shutdown, or a failure worth retrying); the attempt number stays. */
export async function releaseAttempt(db: Queryable, ref: AttemptRef): Promise<boolean> {
  const result = await db.query(
    `UPDATE builds SET status = 'queued', lease_expires_at = NULL, heartbeat_at = NULL
      WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'`,
    [ref.buildId, ref.attempt, ref.agent],
  );
  return (result.rowCount ?? 0) > 0;
}
