import {
  deadLetterQueueName,
  type BuildJob,
  type BrokerConfirmChannel,
  type BrokerMessage,
  type Logger,
} from '@kiln/shared';

import { backoffDelay, sleep } from '@kiln/shared';
import type { BrokerSession } from '@kiln/shared';
import type { JobDelivery } from './job-delivery.js';

export interface QueueWorkerOptions {
  index: number;
  queue: string;
  /** Where invalid messages go; default `<queue>.dead` (an arch's queue shares its build queue's). */
  deadLetterQueue?: string;
  agentId: string;
  session: BrokerSession;
  handle: (delivery: JobDelivery) => Promise<void>;
  logger: Logger;
  /**
   * Asked of the broker per consumer (`x-consumer-timeout`, RabbitMQ 3.12+;
   * 3.10 ignores it and uses its global `consumer_timeout`). Should the broker
   * still close the channel over a long build, the message is redelivered,
   * the build's lease makes that delivery wait for the running attempt, and
   * the result is recorded once.
   */
  consumerTimeoutMs: number;
  onBusy?: (busy: boolean) => void;
}

/**
 * One worker: its own channel, prefetch 1, manual acks, one job at a time.
 * When its channel or connection dies, it finishes the job in hand (which
 * can no longer be acked: the broker redelivers it, and the database says
 * it is done) and then consumes again on the next connection.
 */
export class QueueWorker {
  private readonly stopping = new AbortController();
  private channel: BrokerConfirmChannel | null = null;
  private consumerTag: string | null = null;
  private current: Promise<void> | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: QueueWorkerOptions) {}

  get busy(): boolean {
    return this.current !== null;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops taking jobs (cancels the consumer); the job in hand goes on. */
  async stopConsuming(): Promise<void> {
    this.stopping.abort();
    const { channel, consumerTag } = this;
    if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => undefined);
  }

  /** Resolves when the job in hand (if any) is done. */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    await this.idle();
    await this.channel?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, session } = this.options;
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      const connection = await session.connection(this.stopping.signal);
      if (!connection) break;
      let channel: BrokerConfirmChannel;
      let closed: Promise<void>;
      try {
        channel = await connection.createConfirmChannel();
        closed = new Promise<void>((resolve) => channel.once('close', () => resolve()));
        channel.on('error', (err: Error) =>
          logger.warn({ err: err.message, worker: this.options.index }, 'worker channel closed by the broker'),
        );
        await channel.prefetch(1);
        this.channel = channel;
        const reply = await channel.consume(this.options.queue, (msg) => this.onMessage(channel, msg), {
          noAck: false,
          arguments: { 'x-consumer-timeout': this.options.consumerTimeoutMs },
        });
        this.consumerTag = reply.consumerTag;
        failures = 0;
      } catch (err) {
        logger.warn({ err: (err as Error).message, worker: this.options.index }, 'could not start consuming; retrying');
        await sleep(backoffDelay(failures++, { initialMs: 250, maxMs: 10_000 }), this.stopping.signal);
        continue;
      }
      let onStop = (): void => undefined;
      const stopped = new Promise<void>((resolve) => {
        onStop = resolve;
        this.stopping.signal.addEventListener('abort', onStop, { once: true });
      });
      await Promise.race([closed, stopped]);
      this.stopping.signal.removeEventListener('abort', onStop);
      // A job taken on this channel finishes before this worker takes another (concurrency stays N).
      await this.idle();
      this.consumerTag = null;
      if (this.stopping.signal.aborted) break;
      this.channel = null;
    }
  }

  private onMessage(channel: BrokerConfirmChannel, msg: BrokerMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted): start over on a fresh channel.
      this.options.logger.warn({ worker: this.options.index }, 'the broker cancelled this consumer; resubscribing');
      void channel.close().catch(() => undefined);
      return;
    }
    const { delivery, release } = this.toDelivery(channel, msg);
    if (this.stopping.signal.aborted) {
      delivery.requeue();
      release();
      return;
    }
    this.options.onBusy?.(true);
    const job = this.options
      .handle(delivery)
      .catch((err: unknown) => {
        this.options.logger.error({ err }, 'unexpected error handling a job; it goes back to the queue');
        delivery.requeue();
      })
      .finally(() => {
        release();
        this.current = null;
        this.options.onBusy?.(false);
      });
    this.current = job;
  }

  /** The delivery, and `release` to drop its hold on the channel when the job is done. */
  private toDelivery(
    channel: BrokerConfirmChannel,
    msg: BrokerMessage,
  ): { delivery: JobDelivery; release: () => void } {
    const { logger, queue, agentId } = this.options;
    const closed = new AbortController();
    const onClose = (): void => closed.abort();
    channel.once('close', onClose);
    let settled = false;
    const settle = (what: string, act: () => void): void => {
      if (settled) return;
      settled = true;
      if (closed.signal.aborted) {
        logger.info({ what }, 'channel gone: the broker redelivers this message, and the database knows what happened');
        return;
      }
      try {
        act();
      } catch (err) {
        logger.warn(
          { err: (err as Error).message, what },
          'could not settle the message: the broker will redeliver it',
        );
      }
    };
    const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const publish = (
      target: string,
      body: Buffer,
      extraHeaders: Record<string, unknown>,
      messageId?: string,
      contentType?: string,
    ): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        try {
          channel.sendToQueue(
            target,
            body,
            {
              persistent: true,
              contentType: contentType ?? msg.properties.contentType ?? 'application/json',
              messageId: messageId ?? msg.properties.messageId,
              headers: extraHeaders,
            },
            (err: unknown) =>
              err
                ? reject(new Error(`the broker did not confirm the message to ${target}`, { cause: err }))
                : resolve(),
          );
        } catch (err) {
          reject(new Error(`could not publish to ${target}`, { cause: err }));
        }
      });

    const delivery: JobDelivery = {
      body: msg.content,
      messageId: typeof msg.properties.messageId === 'string' ? msg.properties.messageId : undefined,
      headers,
      previousDeliveries: Number(headers['x-delivery-count'] ?? 0) || 0,
      channelClosed: closed.signal,
      ack: () => settle('ack', () => channel.ack(msg)),
      requeue: () => settle('requeue', () => channel.nack(msg, false, true)),
      deadLetter: (reason: string) =>
        publish(this.options.deadLetterQueue ?? deadLetterQueueName(queue), msg.content, {
          ...withoutDeliveryHeaders(headers),
          'x-kiln-reason': reason.slice(0, 1000),
          'x-kiln-agent': agentId,
          'x-kiln-queue': queue,
        }),
      republish: (job: BuildJob & { id: string }) =>
        publish(
          queue,
          Buffer.from(JSON.stringify(job)),
          { ...withoutDeliveryHeaders(headers), 'x-kiln-admitted-by': agentId },
          job.id,
          'application/json',
        ),
      forward: (target: string, job: BuildJob & { id: string }) =>
        publish(
          target,
          Buffer.from(JSON.stringify(job)),
          { ...withoutDeliveryHeaders(headers), 'x-kiln-routed-by': agentId },
          job.id,
          'application/json',
        ),
    };
    return { delivery, release: () => channel.off('close', onClose) };
  }
}

function withoutDeliveryHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const { 'x-delivery-count': _count, 'x-death': _death, ...rest } = headers;
  return rest;
}
