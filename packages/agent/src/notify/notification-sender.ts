import type { Logger, Pool, PoolClient, Queryable } from '@kiln/shared';
import { toError } from '@kiln/shared';
import { EmailDelivery } from './email-delivery.js';
import { gatherDueDigests } from './gather-digests.js';
import type { LogTailLimits } from './load-failure-email-data.js';
import type { Mailer } from './mailer.js';
import { NOTIFICATION_CHANNEL } from './insert-notification.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry-delay.js';

export interface NotificationSenderOptions {
  /** A pool: every statement the sender runs stands alone. */
  db: Queryable;
  mailer: Mailer;
  logger: Logger;
  /**
   * When given, the sender LISTENs on one connection of this pool and wakes
   * the moment any agent commits a failed build (queueFailureNotification
   * NOTIFYs in the build's transaction). Without it, `poke()` and the timer.
   */
  listen?: Pool;
  /** How often to look for due emails without a poke (default 5s). */
  pollIntervalMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * How long a claimed email stays invisible to other senders (default 2 min).
   * If this process dies mid-send, another sender takes the email after that.
   * Must exceed the mailer's worst case for one message.
   */
  claimMs?: number;
  /**
   * How long repeats of an emailed failure are collected before their digest
   * goes out (default 1h). See queueFailureNotification's repeatWindowMs.
   */
  digestDelayMs?: number;
  /** kiln server's address (KILN_PUBLIC_URL): failure emails link to the build's page there. */
  publicUrl?: string;
  /** Emails claimed per round (default 10). */
  batchSize?: number;
  log?: LogTailLimits;
}

export interface SendSummary {
  sent: number;
  /** Not delivered this time; tried again after a backoff. */
  retrying: number;
  /** Given up: refused by the server for good, or out of attempts. */
  failed: number;
}

export const DEFAULT_DIGEST_DELAY_MS = 3_600_000;

/**
 * Delivers the emails queued in `notifications`. The queue is the table, so an
 * agent restart loses nothing, and `FOR UPDATE SKIP LOCKED` plus a claim time
 * keep several agents from sending the same email. Sending happens here, after
 * the build's transaction has committed, never inside it.
 */
export class NotificationSender {
  private readonly delivery: EmailDelivery;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking = false;
  private poked = false;
  private chain: Promise<unknown> = Promise.resolve();
  private currentTick: Promise<void> = Promise.resolve();
  private listener: PoolClient | undefined;

  constructor(private readonly options: NotificationSenderOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.batchSize = options.batchSize ?? 10;
    this.delivery = new EmailDelivery({
      db: options.db,
      mailer: options.mailer,
      logger: options.logger,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      claimMs: options.claimMs ?? 120_000,
      batchSize: this.batchSize,
      ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  /** Starts sending in the background: now, on every poke, and on a timer. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Something was just queued (the agent committed a failed build): look now. */
  poke(): void {
    if (!this.running) return;
    this.schedule(0);
  }

  /** Stops the timer and waits for the round in progress; a claimed email left unsent is taken again later. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.currentTick;
    await this.chain.catch(() => {});
    this.dropListener();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** One round: delivers every email due now. Rounds in one sender never overlap. */
  sendDue(): Promise<SendSummary> {
    const round = this.chain.then(() => this.sendAllDue());
    this.chain = round.catch(() => {});
    return round;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer !== undefined && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.ticking) {
        // A poke during a round: whatever it announced may have been missed, so go again after.
        this.poked = true;
        return;
      }
      this.currentTick = this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    this.poked = false;
    let next = this.pollIntervalMs;
    try {
      await this.listenForCommits();
      await this.sendDue();
      next = await this.untilNextDue();
    } catch (err) {
      this.options.logger.warn({ err }, 'sending notifications failed; trying again');
    } finally {
      this.ticking = false;
    }
    this.schedule(this.poked ? 0 : next);
  }

  private async listenForCommits(): Promise<void> {
    if (!this.options.listen || this.listener || !this.running) return;
    const client = await this.options.listen.connect();
    // A dropped connection must not crash the agent: forget it, listen again next round.
    client.on('error', (err) => {
      this.options.logger.warn({ err }, 'notification listener lost its connection');
      if (this.listener === client) this.dropListener(err);
    });
    client.on('notification', () => this.poke());
    try {
      await client.query(`LISTEN ${NOTIFICATION_CHANNEL}`);
    } catch (err) {
      client.release(toError(err));
      throw new Error('cannot LISTEN for queued notifications', { cause: err });
    }
    this.listener = client;
  }

  private dropListener(err?: Error): void {
    const client = this.listener;
    this.listener = undefined;
    // Destroyed, not returned to the pool: it is still subscribed.
    client?.release(err ?? true);
  }

  private async untilNextDue(): Promise<number> {
    const { rows } = await this.options.db.query<{ ms: string | null }>(
      `SELECT (EXTRACT(EPOCH FROM min(next_attempt_at) - now()) * 1000)::bigint::text AS ms
         FROM notifications WHERE status = 'pending'`,
    );
    const ms = rows[0]?.ms;
    if (ms === null || ms === undefined) return this.pollIntervalMs;
    // Due now yet not claimed means another sender holds it: do not spin.
    return Math.min(Math.max(Number(ms), 200), this.pollIntervalMs);
  }

  private async sendAllDue(): Promise<SendSummary> {
    const summary: SendSummary = { sent: 0, retrying: 0, failed: 0 };
    await gatherDueDigests(this.options.db, this.options.digestDelayMs ?? DEFAULT_DIGEST_DELAY_MS);
    for (;;) {
      const claimed = await this.delivery.claim();
      for (const row of claimed) summary[await this.delivery.deliver(row)]++;
      if (claimed.length < this.batchSize) return summary;
    }
  }
}
