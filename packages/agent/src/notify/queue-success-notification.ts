import { redactRepo, type Queryable } from '@kiln/shared';
import { NOTIFICATION_CHANNEL, chooseRecipient, type FailureNotificationInput } from './queue-failure-notification.js';
import {
  NOTIFICATION_COLUMNS,
  toNotificationRecord,
  type NotificationRecord,
  type NotificationRow,
} from './notification-record.js';

/** Which repositories asked to hear about successes too (KILN_NOTIFY_SUCCESS_REPOS). */
export interface SuccessOptIn {
  /** Repository locations as cloned (credentials are ignored), or `*` for every one. */
  repos: readonly string[];
}

/** True when `repo` (as stored on the build) is one of `optIn.repos`. */
export function wantsSuccessEmail(repo: string, optIn: SuccessOptIn): boolean {
  const wanted = normalize(repo);
  return optIn.repos.some((r) => r === '*' || normalize(r) === wanted);
}

/**
 * Queues the email for a build that succeeded, if its repository opted in;
 * returns null otherwise. Like queueFailureNotification, call it inside the
 * result's transaction; a redelivered job queues nothing twice. A maintainer
 * address that is not one valid mailbox is refused, as for failures.
 */
export async function queueSuccessNotification(
  db: Queryable,
  input: FailureNotificationInput,
  optIn: SuccessOptIn,
): Promise<NotificationRecord | null> {
  if (optIn.repos.length === 0) return null;
  const build = (await db.query<{ repo: string }>('SELECT repo FROM builds WHERE id = $1', [input.buildId])).rows[0];
  if (!build || !wantsSuccessEmail(build.repo, optIn)) return null;
  const choice = chooseRecipient(input);
  const inserted = await db.query<NotificationRow>(
    `INSERT INTO notifications (build_id, kind, recipient, status, last_error)
     VALUES ($1, 'success', $2, $3, $4)
     ON CONFLICT (build_id, kind) DO NOTHING
     RETURNING ${NOTIFICATION_COLUMNS}`,
    [input.buildId, choice.shown, choice.ok ? 'pending' : 'refused', choice.ok ? null : choice.reason],
  );
  if (inserted.rows[0]?.status === 'pending') {
    await db.query('SELECT pg_notify($1, $2)', [NOTIFICATION_CHANNEL, input.buildId]);
  }
  const row =
    inserted.rows[0] ??
    (
      await db.query<NotificationRow>(
        `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE build_id = $1 AND kind = 'success'`,
        [input.buildId],
      )
    ).rows[0];
  return row ? toNotificationRecord(row) : null;
}

function normalize(repo: string): string {
  return redactRepo(repo.trim())
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)\*\*\*@/, '$1')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}
