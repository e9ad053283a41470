import { redactRepo, type Queryable } from '@kiln/shared';
import { insertNotification } from './insert-notification.js';
import type { NotificationRecord } from './notification-record.js';
import { chooseRecipient, type FailureNotificationInput } from './queue-failure-notification.js';

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
  return insertNotification(db, {
    buildId: input.buildId,
    kind: 'success',
    recipient: choice.shown,
    status: choice.ok ? 'pending' : 'refused',
    lastError: choice.ok ? null : choice.reason,
  });
}

function normalize(repo: string): string {
  return redactRepo(repo.trim())
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)\*\*\*@/, '$1')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}
