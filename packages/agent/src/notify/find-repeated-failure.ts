import type { Queryable } from '@kiln/shared';

/**
 * The notification a failure repeats, if it does: the previous finished build
 * of the same package failed the same way (status, stage, command, exit code;
 * the error text when no stage is named, as for an invalid manifest), its
 * email went (or is going) to the same recipient, and the first email of that
 * run of failures is younger than `windowMs`. Returns that first email's id.
 * A success in between breaks the run: only consecutive builds count.
 */
export async function findRepeatedFailure(
  db: Queryable,
  buildId: string,
  recipient: string,
  windowMs: number,
): Promise<string | null> {
  const { rows } = await db.query<{ original: string }>(
    `WITH cur AS (
       SELECT id, package_name, status, failed_stage, failed_command, exit_code, error, finished_at
         FROM builds WHERE id = $1
     ), prev AS (
       SELECT b.id, b.status, b.failed_stage, b.failed_command, b.exit_code, b.error
         FROM builds b, cur
        WHERE b.package_name = cur.package_name AND b.id <> cur.id
          AND b.status IN ('succeeded', 'failed', 'errored') AND b.finished_at IS NOT NULL
          AND b.finished_at <= coalesce(cur.finished_at, now())
        ORDER BY b.finished_at DESC
        LIMIT 1
     )
     SELECT o.id::text AS original
       FROM cur
       JOIN prev ON prev.status = cur.status
                AND prev.failed_stage IS NOT DISTINCT FROM cur.failed_stage
                AND prev.failed_command IS NOT DISTINCT FROM cur.failed_command
                AND prev.exit_code IS NOT DISTINCT FROM cur.exit_code
                AND (cur.failed_stage IS NOT NULL OR prev.error IS NOT DISTINCT FROM cur.error)
       JOIN notifications n ON n.build_id = prev.id AND n.kind = 'failure'
                           AND n.status IN ('pending', 'sent', 'suppressed') AND n.recipient = $2
       JOIN notifications o ON o.id = coalesce(n.repeat_of, n.id)
                           AND o.status IN ('pending', 'sent')
                           AND o.created_at > now() - $3 * interval '1 millisecond'`,
    [buildId, recipient, windowMs],
  );
  return rows[0]?.original ?? null;
}
