import {
  declareBuildQueue,
  InfrastructureError,
  toError,
  type BuildJob,
  type BrokerConnection,
  type BrokerConfirmChannel,
  type ConnectBroker,
  type Logger,
} from '@kiln/shared';
import type { JobPublisher, PublishResult } from './job-publisher.js';

export interface AmqpJobPublisherOptions {
  /** Opens a broker connection (built in main.ts); called again after any loss. */
  connect: ConnectBroker;
  queue: string;
  deliveryLimit: number;
  logger: Logger;
  /** A broker under a resource alarm accepts messages but never confirms them; give up after this. */
  confirmTimeoutMs?: number;
}

/**
 * Publishes jobs persistent, on a confirm channel, with the build id as the
 * message id. Connects lazily and again after any loss, so a broker that is
 * down only delays jobs (the outbox keeps them) and never stops the crawler.
 */
export class AmqpJobPublisher implements JobPublisher {
  private model: BrokerConnection | null = null;
  private channel: BrokerConfirmChannel | null = null;
  private opening: Promise<BrokerConfirmChannel> | null = null;

  constructor(private readonly options: AmqpJobPublisherOptions) {}

  async publish(jobs: ReadonlyArray<BuildJob & { id: string }>): Promise<PublishResult> {
    const result: PublishResult = { confirmed: [], failed: [] };
    if (jobs.length === 0) return result;
    const channel = await this.open();
    const timeoutMs = this.options.confirmTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const settled = new Set<string>();
    const confirms = jobs.map(
      (job) =>
        new Promise<void>((resolve) => {
          const done = (err: unknown) => {
            if (settled.has(job.id)) return resolve();
            settled.add(job.id);
            if (err) result.failed.push({ id: job.id, error: toError(err).message });
            else result.confirmed.push(job.id);
            resolve();
          };
          try {
            channel.sendToQueue(
              this.options.queue,
              Buffer.from(JSON.stringify(job)),
              {
                persistent: true,
                messageId: job.id,
                contentType: 'application/json',
                type: 'kiln.build-job',
                appId: 'kiln',
                timestamp: Math.floor(Date.now() / 1000),
              },
              (err) => done(err),
            );
          } catch (err) {
            done(err);
          }
        }),
    );
    const outcome = await Promise.race([Promise.all(confirms).then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const job of jobs) {
        if (!settled.has(job.id)) {
          settled.add(job.id);
          result.failed.push({ id: job.id, error: `not confirmed by RabbitMQ within ${timeoutMs} ms` });
        }
      }
      // Whatever the channel still owes us is unknowable now; start afresh.
      await this.reset();
    }
    return result;
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private async open(): Promise<BrokerConfirmChannel> {
    if (this.channel) return this.channel;
    this.opening ??= this.connect().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async connect(): Promise<BrokerConfirmChannel> {
    const { logger } = this.options;
    const model = await this.options.connect();
    try {
      model.on('error', (err: Error) => logger.warn({ err: err.message }, 'RabbitMQ connection error'));
      model.on('blocked', (reason: string) => logger.warn({ reason }, 'RabbitMQ blocked publishing (resource alarm)'));
      model.on('close', () => {
        if (this.model === model) {
          this.model = null;
          this.channel = null;
          logger.warn('RabbitMQ connection closed; jobs wait in the outbox until it is back');
        }
      });
      const channel = await model.createConfirmChannel();
      channel.on('error', (err: Error) => logger.warn({ err: err.message }, 'RabbitMQ channel error'));
      channel.on('close', () => {
        // A channel closed by the broker (a refused declaration, say) leaves
        // its connection open: drop both, the next publish starts afresh.
        if (this.channel === channel) void this.reset();
      });
      await declareBuildQueue(channel, { queue: this.options.queue, deliveryLimit: this.options.deliveryLimit });
      this.model = model;
      this.channel = channel;
      return channel;
    } catch (err) {
      await model.close().catch(() => {});
      throw new InfrastructureError(`cannot open the build queue on RabbitMQ: ${toError(err).message}`, { cause: err });
    }
  }

  private async reset(): Promise<void> {
    const model = this.model;
    this.model = null;
    this.channel = null;
    if (model) await model.close().catch(() => {});
  }
}
