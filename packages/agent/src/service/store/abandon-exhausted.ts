import { withTransaction, type Database } from '@kiln/shared';
import type { FailureNotifications } from '../failure-notifications.js';

/**
 * Records as `errored` the builds whose last possible delivery died with
 * its agent. RabbitMQ delivers a job at most deliveryLimit + 1 times (then
 * dead-letters it), and every claim adds an attempt; so a running build at
 * attempt > deliveryLimit whose lease ran out (by `graceMs`, for an agent
 * that is only slow) will never be delivered again, and would otherwise
 * stay `running` forever. A build with fewer attempts may still be waiting
 * in the queue and is left alone. Its maintainer is told, as for any
 * errored build. Returns the ids it recorded.
 */
export async function abandonExhausted(
  pool: Database,
  notifications: FailureNotifications,
  deliveryLimit: number,
  graceMs: number,
): Promise<string[]> {
  return withTransaction(pool, async (db) => {
    const { rows } = await db.query<{ id: string; maintainer: string | null }>(
      `UPDATE builds
          SET status = 'errored', finished_at = now(), lease_expires_at = NULL,
              duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint,
              failed_stage = COALESCE(failed_stage, 'agent'),
              error = 'gave up: attempt ' || attempt || ' died with its agent (lease expired at '
                      || to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                      || '), and RabbitMQ does not deliver a job more than ' || ($1::int + 1) || ' times'
        WHERE status = 'running' AND attempt > $1
          AND lease_expires_at < now() - $2 * interval '1 millisecond'
        RETURNING id::text AS id, manifest #>> '{package,maintainer}' AS maintainer`,
      [deliveryLimit, graceMs],
    );
    for (const row of rows) {
      await notifications.queue(db, {
        buildId: row.id,
        ...(row.maintainer ? { maintainer: row.maintainer } : {}),
      });
    }
    return rows.map((r) => r.id);
  });
}
