/** One row of `notifications`: who is (or was) emailed about which build, and how it went. */
export type NotificationKind = 'failure' | 'success' | 'digest';
export type NotificationStatus = 'pending' | 'sent' | 'refused' | 'failed' | 'suppressed';

export interface NotificationRecord {
  id: string;
  buildId: string;
  kind: NotificationKind;
  /** `Name <addr>` as validated; for a refused one, the offending text with control characters escaped. */
  recipient: string | null;
  subject: string | null;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  createdAt: Date;
  sentAt: Date | null;
  /** For a suppressed repeat or a digest: the notification that was emailed first. */
  repeatOf: string | null;
  /** For a suppressed repeat: the digest that reported it, once there is one. */
  digestId: string | null;
}

export interface NotificationRow {
  id: string;
  build_id: string;
  kind: NotificationKind;
  recipient: string | null;
  subject: string | null;
  status: NotificationStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  sent_at: Date | null;
  repeat_of: string | null;
  digest_id: string | null;
}

export const NOTIFICATION_COLUMNS =
  'id::text AS id, build_id, kind, recipient, subject, status, attempts, last_error, next_attempt_at, created_at, sent_at, ' +
  'repeat_of::text AS repeat_of, digest_id::text AS digest_id';

export function toNotificationRecord(row: NotificationRow): NotificationRecord {
  return {
    id: row.id,
    buildId: row.build_id,
    kind: row.kind,
    recipient: row.recipient,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    repeatOf: row.repeat_of,
    digestId: row.digest_id,
  };
}
