import { toError, type Logger, type Queryable } from '@kiln/shared';
import { loadDigestEmailData } from './digest-email-data.js';
import { loadFailureEmailData, type LogTailLimits } from './load-failure-email-data.js';
import { loadSuccessEmailData } from './load-success-email-data.js';
import { parseMailbox } from './mailbox.js';
import { MailDeliveryError, type Mailer } from './mailer.js';
import type { NotificationKind } from './notification-record.js';
import { renderDigestEmail } from './render-digest-email.js';
import { renderFailureEmail, type RenderedEmail } from './render-failure-email.js';
import { renderSuccessEmail } from './render-success-email.js';
import { retryDelay, type RetryPolicy } from './retry-delay.js';

/** How one email went. */
export type DeliveryOutcome = 'sent' | 'retrying' | 'failed';

export interface EmailDeliveryOptions {
  db: Queryable;
  mailer: Mailer;
  logger: Logger;
  retry: RetryPolicy;
  claimMs: number;
  batchSize: number;
  publicUrl?: string;
  log?: LogTailLimits;
}

/** A queued email taken by this sender. */
export interface ClaimedRow {
  id: string;
  build_id: string;
  kind: NotificationKind;
  recipient: string | null;
  attempts: number;
}

/**
 * One email from its `notifications` row to the mail server: claimed (`FOR
 * UPDATE SKIP LOCKED` and a claim time keep two senders apart), rendered from
 * what the database holds now, sent, and its row completed.
 */
export class EmailDelivery {
  constructor(private readonly options: EmailDeliveryOptions) {}

  /** Takes up to a batch of due emails, invisible to other senders for the claim time. */
  async claim(): Promise<ClaimedRow[]> {
    const { rows } = await this.options.db.query<ClaimedRow>(
      `UPDATE notifications SET next_attempt_at = now() + $2 * interval '1 millisecond'
        WHERE id IN (SELECT id FROM notifications
                      WHERE status = 'pending' AND next_attempt_at <= now()
                      ORDER BY next_attempt_at, id LIMIT $1
                      FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id, build_id, kind, recipient, attempts`,
      [this.options.batchSize, this.options.claimMs],
    );
    return rows;
  }

  /** Renders and sends one claimed email, and records how it went: sent, to be retried, or failed for good. */
  async deliver(row: ClaimedRow): Promise<DeliveryOutcome> {
    const logger = this.options.logger.child({ buildId: row.build_id, notification: row.id });
    // The row is re-checked, not trusted: it may have been written by hand.
    const to = parseMailbox(row.recipient ?? '');
    if (!to.ok) {
      await this.finish(row, 'refused', null, `recipient ${to.reason}`);
      logger.warn({ reason: to.reason }, 'notification refused');
      return 'failed';
    }
    let email: RenderedEmail | null = null;
    try {
      email = await this.render(row);
      if (email === null) {
        await this.finish(row, 'failed', null, 'the build (or the repeats of a digest) no longer exists');
        return 'failed';
      }
      await this.options.mailer.send({
        to: to.mailbox,
        subject: email.subject,
        text: email.text,
        html: email.html,
        key: `${row.kind}.${row.build_id}`,
        headers: { 'X-Kiln-Build': row.build_id },
      });
    } catch (thrown) {
      const err = toError(thrown);
      const attempts = row.attempts + 1;
      const permanent = err instanceof MailDeliveryError && err.permanent;
      if (permanent || attempts >= this.options.retry.maxAttempts) {
        await this.finish(row, 'failed', email?.subject ?? null, err.message);
        logger.error({ err, attempts }, 'notification failed for good');
        return 'failed';
      }
      const delayMs = retryDelay(attempts, this.options.retry);
      await this.options.db.query(
        `UPDATE notifications
            SET attempts = attempts + 1, last_error = $2, subject = coalesce($3, subject),
                next_attempt_at = now() + $4 * interval '1 millisecond'
          WHERE id = $1 AND status = 'pending'`,
        [row.id, err.message, email?.subject ?? null, delayMs],
      );
      logger.warn({ err, attempts, retryInMs: delayMs }, 'notification not sent; will retry');
      return 'retrying';
    }
    await this.markSent(row, email.subject, logger);
    logger.info({ to: to.mailbox.address, subject: email.subject }, 'notification sent');
    return 'sent';
  }

  /**
   * Records that the email went out. The mail server has it already, so a
   * database that does not answer now is waited for while the claim keeps
   * other senders off the row: giving up at once would leave it pending and
   * send the same email again (found by the chaos suite, PostgreSQL restarted
   * between SMTP's "250 OK" and this write). Only a claim that runs out first
   * (or a crash here) can still repeat it, under the same Message-ID.
   */
  private async markSent(row: ClaimedRow, subject: string, logger: Logger): Promise<void> {
    const deadline = Date.now() + this.options.claimMs * 0.8;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.options.db.query(
          `UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1, subject = $2
            WHERE id = $1 AND status = 'pending'`,
          [row.id, subject],
        );
        return;
      } catch (err) {
        const waitMs = Math.min(5_000, 250 * 2 ** attempt);
        if (Date.now() + waitMs > deadline) throw err;
        logger.warn({ err, attempt }, 'sent, but could not record it yet; trying again');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private async render(row: ClaimedRow): Promise<RenderedEmail | null> {
    switch (row.kind) {
      case 'failure': {
        const data = await loadFailureEmailData(this.options.db, row.build_id, this.options.log);
        if (data === null) return null;
        const base = this.options.publicUrl?.replace(/\/+$/, '');
        return renderFailureEmail(base ? { ...data, pageUrl: `${base}/builds/${data.buildId}` } : data);
      }
      case 'digest': {
        const data = await loadDigestEmailData(this.options.db, row.id, this.options.log);
        return data === null ? null : renderDigestEmail(data);
      }
      case 'success': {
        const data = await loadSuccessEmailData(this.options.db, row.build_id);
        return data === null ? null : renderSuccessEmail(data);
      }
      default:
        throw new Error(`no email for notifications of kind "${String(row.kind)}"`);
    }
  }

  private async finish(
    row: ClaimedRow,
    status: 'failed' | 'refused',
    subject: string | null,
    error: string,
  ): Promise<void> {
    await this.options.db.query(
      `UPDATE notifications SET status = $2, attempts = attempts + 1, last_error = $3, subject = coalesce($4, subject)
        WHERE id = $1 AND status = 'pending'`,
      [row.id, status, error, subject],
    );
  }
}
