import type { Queryable } from '@kiln/shared';
import {
  NOTIFICATION_COLUMNS,
  toNotificationRecord,
  type NotificationRecord,
  type NotificationRow,
} from './notification-record.js';

/** The channel a queued email is announced on, at commit, to every sender that listens. */
export const NOTIFICATION_CHANNEL = 'kiln_notifications';

export interface NewNotification {
  buildId: string;
  kind: 'failure' | 'success';
  recipient: string | null;
  status: 'pending' | 'refused' | 'suppressed';
  lastError: string | null;
  repeatOf?: string | null;
}

/**
 * Inserts the build's notification of this kind unless it has one, and
 * returns whichever row is there: UNIQUE (build_id, kind) makes a redelivered
 * job or a second attempt a no-op that returns the first record.
 */
export async function insertNotification(db: Queryable, n: NewNotification): Promise<NotificationRecord> {
  const inserted = await db.query<NotificationRow>(
    `INSERT INTO notifications (build_id, kind, recipient, status, last_error, repeat_of)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (build_id, kind) DO NOTHING
     RETURNING ${NOTIFICATION_COLUMNS}`,
    [n.buildId, n.kind, n.recipient, n.status, n.lastError, n.repeatOf ?? null],
  );
  if (inserted.rows[0]?.status === 'pending') {
    // Delivered by PostgreSQL only if and when this transaction commits: a
    // listening sender wakes exactly when the email becomes visible.
    await db.query('SELECT pg_notify($1, $2)', [NOTIFICATION_CHANNEL, n.buildId]);
  }
  const row =
    inserted.rows[0] ??
    (
      await db.query<NotificationRow>(
        `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE build_id = $1 AND kind = $2`,
        [n.buildId, n.kind],
      )
    ).rows[0];
  if (!row) throw new Error(`${n.kind} notification for build ${n.buildId} neither inserted nor found`);
  return toNotificationRecord(row);
}
