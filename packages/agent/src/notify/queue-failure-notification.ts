import type { Queryable } from '@kiln/shared';
import { formatMailbox, mailboxFromAuthor, parseMailbox, type MailboxCheck } from './mailbox.js';
import { NOTIFICATION_COLUMNS, toNotificationRecord, type NotificationRecord, type NotificationRow } from './notification-record.js';

export interface FailureNotificationInput {
  buildId: string;
  /** The manifest's `package.maintainer`, as written. */
  maintainer?: string | null;
  /** The author of the branch head's commit: the recipient when the manifest names none. */
  commitAuthor?: { name: string; email: string } | null;
}

export type RecipientChoice = MailboxCheck & { shown: string | null };

/**
 * The manifest's maintainer, else the commit author. An invalid maintainer is
 * refused, not replaced by the author: the manifest said who, and guessing
 * someone else could hand a build's details to the wrong person.
 */
export function chooseRecipient(input: Pick<FailureNotificationInput, 'maintainer' | 'commitAuthor'>): RecipientChoice {
  const maintainer = input.maintainer?.trim() ? input.maintainer : undefined;
  if (maintainer !== undefined) {
    const check = parseMailbox(maintainer);
    return check.ok
      ? { ...check, shown: formatMailbox(check.mailbox) }
      : { ok: false, reason: `package.maintainer ${check.reason}`, shown: escapeForRecord(maintainer) };
  }
  if (input.commitAuthor?.email) {
    const check = mailboxFromAuthor(input.commitAuthor);
    return check.ok
      ? { ...check, shown: formatMailbox(check.mailbox) }
      : { ok: false, reason: `the commit author's email ${check.reason}`, shown: escapeForRecord(input.commitAuthor.email) };
  }
  return { ok: false, reason: 'no recipient: the manifest has no package.maintainer and the commit author is unknown', shown: null };
}

/**
 * Records that the maintainer must hear about this failed build. Call it
 * inside the transaction that writes the build's result, after the `builds`
 * row is updated: the email then exists exactly when the result does, and
 * UNIQUE (build_id, kind) makes a redelivered job or a second attempt a no-op
 * that returns the first record. Nothing is sent here; a NotificationSender
 * does that after the commit, so the ack never waits for SMTP.
 */
export async function queueFailureNotification(db: Queryable, input: FailureNotificationInput): Promise<NotificationRecord> {
  const choice = chooseRecipient(input);
  const inserted = await db.query<NotificationRow>(
    `INSERT INTO notifications (build_id, kind, recipient, status, last_error)
     VALUES ($1, 'failure', $2, $3, $4)
     ON CONFLICT (build_id, kind) DO NOTHING
     RETURNING ${NOTIFICATION_COLUMNS}`,
    [input.buildId, choice.shown, choice.ok ? 'pending' : 'refused', choice.ok ? null : choice.reason],
  );
  const row =
    inserted.rows[0] ??
    (
      await db.query<NotificationRow>(`SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE build_id = $1 AND kind = 'failure'`, [
        input.buildId,
      ])
    ).rows[0];
  if (!row) throw new Error(`notification for build ${input.buildId} neither inserted nor found`);
  return toNotificationRecord(row);
}

/** Keeps a refused address on record without its line breaks. */
function escapeForRecord(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > 400 ? `${escaped.slice(0, 400)}…` : escaped;
}
