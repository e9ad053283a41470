// Failure emails: queued inside the build's result transaction, sent after it.
export {
  queueFailureNotification,
  chooseRecipient,
  type FailureNotificationInput,
} from './queue-failure-notification.js';
export type { NotificationRecord, NotificationKind, NotificationStatus } from './notification-record.js';
export {
  NotificationSender,
  DEFAULT_DIGEST_DELAY_MS,
  type NotificationSenderOptions,
  type SendSummary,
} from './notification-sender.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry-delay.js';
export { createSmtpMailer, type SmtpMailerOptions } from './smtp-mailer.js';
export { MailDeliveryError, type Mailer, type MailMessage } from './mailer.js';
export { parseMailbox, formatMailbox, mailboxFromAuthor, type Mailbox, type MailboxCheck } from './mailbox.js';
export { renderFailureEmail, type RenderedEmail } from './render-failure-email.js';
export { loadFailureEmailData, type LogTailLimits } from './load-failure-email-data.js';
export type { FailureEmailData, EmailStage } from './failure-email-data.js';
export { renderDigestEmail } from './render-digest-email.js';
export { loadDigestEmailData, type DigestEmailData, type DigestRepeat } from './digest-email-data.js';
export { queueSuccessNotification, wantsSuccessEmail, type SuccessOptIn } from './queue-success-notification.js';
export { renderSuccessEmail, type SuccessEmailData } from './render-success-email.js';
export { loadSuccessEmailData } from './load-success-email-data.js';
