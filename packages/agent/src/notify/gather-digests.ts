import type { Queryable } from '@kiln/shared';

/**
 * Turns suppressed repeats into digests: for each first email whose oldest
 * undigested repeat is older than `delayMs`, one `digest` notification (on the
 * latest repeat's build, to its recipient) that takes every such repeat. One
 * statement per digest, with the repeats locked: a repeat queued meanwhile
 * waits for the next digest, and two senders never gather the same repeat.
 * Returns how many digests it queued.
 */
export async function gatherDueDigests(db: Queryable, delayMs: number): Promise<number> {
  const due = await db.query<{ original: string }>(
    `SELECT repeat_of::text AS original FROM notifications
      WHERE status = 'suppressed' AND digest_id IS NULL AND repeat_of IS NOT NULL
      GROUP BY repeat_of
     HAVING min(created_at) <= now() - $1 * interval '1 millisecond'`,
    [delayMs],
  );
  let queued = 0;
  for (const { original } of due.rows) {
    const made = await db.query(
      `WITH repeats AS (
         SELECT id, build_id, recipient, created_at FROM notifications
          WHERE repeat_of = $1 AND status = 'suppressed' AND digest_id IS NULL
          ORDER BY created_at, id
          FOR UPDATE SKIP LOCKED
       ), latest AS (
         SELECT build_id, recipient FROM repeats ORDER BY created_at DESC, id DESC LIMIT 1
       ), digest AS (
         INSERT INTO notifications (build_id, kind, recipient, status, repeat_of)
         SELECT build_id, 'digest', recipient, 'pending', $1 FROM latest
         ON CONFLICT (build_id, kind) DO NOTHING
         RETURNING id
       )
       UPDATE notifications n SET digest_id = digest.id
         FROM digest WHERE n.id IN (SELECT id FROM repeats)`,
      [original],
    );
    if ((made.rowCount ?? 0) > 0) queued++;
  }
  return queued;
}
