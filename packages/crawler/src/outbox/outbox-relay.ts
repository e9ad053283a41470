import { toError, withTransaction, type Logger, type Pool } from '@kiln/shared';
import type { JobPublisher } from '../publish/job-publisher.js';
import { claimUnpublished, markFailed, markPublished } from './outbox-store.js';

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: JobPublisher;
  logger: Logger;
  batchSize?: number;
  /** Even when nobody wakes it, look for entries this often (left by a crash, another crawler, `kiln submit`). */
  sweepMs?: number;
  /** Backoff while the broker or database is unreachable: from 250 ms up to this. */
  maxRetryMs?: number;
}

/**
 * Moves jobs from `job_outbox` to RabbitMQ. Each batch is claimed, published
 * and marked in one transaction; see outbox-store.ts for why delivery is at
 * least once and why that is safe.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private failing = false;
  private published = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New entries are waiting: publish them now rather than at the next sweep. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  get publishedCount(): number {
    return this.published;
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** Publishes everything unpublished right now; resolves to how many went out. Throws if it cannot. */
  async drain(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    let total = 0;
    for (;;) {
      const { sent, claimed } = await this.publishBatch(batchSize);
      total += sent;
      if (claimed < batchSize) return total;
    }
  }

  private async publishBatch(limit: number): Promise<{ sent: number; claimed: number }> {
    const { pool, publisher, logger } = this.options;
    const outcome = await withTransaction(pool, async (db) => {
      const entries = await claimUnpublished(db, limit);
      if (entries.length === 0) return { sent: 0, claimed: 0, error: null };
      let result;
      try {
        result = await publisher.publish(entries.map((e) => ({ ...e.job, id: e.buildId })));
      } catch (err) {
        // Keep the attempt count (the transaction commits), then report: the entries stay unpublished.
        await markFailed(
          db,
          entries.map((e) => e.buildId),
          toError(err).message,
        );
        return { sent: 0, claimed: entries.length, error: toError(err) };
      }
      await markPublished(db, result.confirmed);
      for (const f of result.failed) await markFailed(db, [f.id], f.error);
      const confirmed = new Set(result.confirmed);
      for (const e of entries) {
        if (confirmed.has(e.buildId))
          logger.info({ buildId: e.buildId, branch: e.job.branch, commit: e.job.commit }, 'published build job');
      }
      this.published += confirmed.size;
      const failure = result.failed[0];
      return {
        sent: confirmed.size,
        claimed: entries.length,
        error: failure ? new Error(`RabbitMQ did not confirm ${result.failed.length} job(s): ${failure.error}`) : null,
      };
    });
    if (outcome.error) throw outcome.error;
    return outcome;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    const sweepMs = this.options.sweepMs ?? 10_000;
    const maxRetryMs = this.options.maxRetryMs ?? 5_000;
    let retryMs = 250;
    while (this.running) {
      this.woken = false;
      let wait = sweepMs;
      try {
        const sent = await this.drain();
        if (this.failing) {
          logger.info({ sent }, 'publishing build jobs again');
          this.failing = false;
        }
        retryMs = 250;
      } catch (err) {
        if (!this.failing) {
          logger.warn(
            { err: toError(err).message },
            'cannot publish build jobs; they wait in the outbox and go out when RabbitMQ is back',
          );
          this.failing = true;
        } else {
          logger.debug({ err: toError(err).message, retryMs }, 'still cannot publish build jobs');
        }
        wait = retryMs;
        retryMs = Math.min(retryMs * 2, maxRetryMs);
      }
      if (!this.running) break;
      // While failing, a wake-up does not cut the backoff short: new jobs
      // arriving must not turn the retry into a tight loop.
      if (this.woken && !this.failing) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wakeUp = () => {
          if (!this.failing || !this.running) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      this.wakeUp = null;
    }
  }
}
