import type { Queryable } from '@kiln/shared';
import { findRepeatedFailure } from './find-repeated-failure.js';
import { formatMailbox, mailboxFromAuthor, parseMailbox, type MailboxCheck } from './mailbox.js';
import { insertNotification } from './insert-notification.js';
import type { NotificationRecord } from './notification-record.js';

export interface FailureNotificationInput {
  buildId: string;
  /** The manifest's `package.maintainer`, as written. */
  maintainer?: string | null;
  /**
   * The author of the branch head's commit: the recipient when the manifest
   * names none. As git gives it (`{ name, email }`) or as `Name <email>`.
   */
  commitAuthor?: { name: string; email: string } | string | null;
}

export interface QueueFailureOptions {
  /**
   * A failure that repeats the previous build's (same package, stage, command,
   * exit code, recipient) within this long of the first email is not emailed
   * again but gathered into a digest. 0 emails every failure. Default 24h.
   */
  repeatWindowMs?: number;
}

export const DEFAULT_REPEAT_WINDOW_MS = 24 * 3_600_000;

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
  const author = typeof input.commitAuthor === 'string' ? splitAuthor(input.commitAuthor) : input.commitAuthor;
  if (author?.email) {
    const check = mailboxFromAuthor(author);
    return check.ok
      ? { ...check, shown: formatMailbox(check.mailbox) }
      : { ok: false, reason: `the commit author's email ${check.reason}`, shown: escapeForRecord(author.email) };
  }
  return {
    ok: false,
    reason: 'no recipient: the manifest has no package.maintainer and the commit author is unknown',
    shown: null,
  };
}

/**
 * Records that the maintainer must hear about this failed build. Call it
 * inside the transaction that writes the build's result, after the `builds`
 * row is updated: the email then exists exactly when the result does, and
 * UNIQUE (build_id, kind) makes a redelivered job or a second attempt a no-op
 * that returns the first record. Nothing is sent here; a NotificationSender
 * does that after the commit, so the ack never waits for SMTP.
 *
 * A failure that merely repeats the previous build's is recorded as
 * `suppressed` (`repeat_of` the email that was sent) and reaches the
 * maintainer in a digest instead of as the same email again.
 */
export async function queueFailureNotification(
  db: Queryable,
  input: FailureNotificationInput,
  options: QueueFailureOptions = {},
): Promise<NotificationRecord> {
  const choice = chooseRecipient(input);
  const windowMs = options.repeatWindowMs ?? DEFAULT_REPEAT_WINDOW_MS;
  const repeatOf =
    choice.ok && choice.shown && windowMs > 0
      ? await findRepeatedFailure(db, input.buildId, choice.shown, windowMs)
      : null;
  const status = !choice.ok ? 'refused' : repeatOf ? 'suppressed' : 'pending';
  return insertNotification(db, {
    buildId: input.buildId,
    kind: 'failure',
    recipient: choice.shown,
    status,
    lastError: choice.ok ? null : choice.reason,
    repeatOf,
  });
}

/**
 * `Name <email>` as an agent may format a git author; a name may hold
 * anything but angle brackets, so this is split, not parsed as a mailbox.
 */
function splitAuthor(text: string): { name: string; email: string } {
  const match = /^([^<>]*)<([^<>]*)>\s*$/.exec(text);
  return match
    ? { name: (match[1] ?? '').trim(), email: spaceTrim(match[2] ?? '') }
    : { name: '', email: spaceTrim(text) };
}

// Only spaces: a line break stays in, for parseMailbox to refuse.
function spaceTrim(text: string): string {
  return text.replace(/^ +| +$/g, '');
}

/** Keeps a refused address on record without its line breaks. */
function escapeForRecord(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > 400 ? `${escaped.slice(0, 400)}…` : escaped;
}
