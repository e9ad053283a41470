import type { BuildJob } from '@kiln/shared';

/**
 * One message from the build queue, in Kiln's words: the handler decides,
 * the delivery carries the decision to the broker. (The amqplib version is in
 * queue-worker.ts; tests may hand the handler their own.)
 */
export interface JobDelivery {
  body: Buffer;
  messageId?: string;
  headers: Record<string, unknown>;
  /** How many times the broker handed this message out before (quorum queues count). */
  previousDeliveries: number;
  /** Aborts when the channel this came on closes: no ack or nack is possible any more. */
  readonly channelClosed: AbortSignal;
  ack(): void;
  /** Back to the queue, for this or another agent. */
  requeue(): void;
  /** Publishes the message to the dead-letter queue with the reason in its headers (confirmed); ack after. */
  deadLetter(reason: string): Promise<void>;
  /** Publishes a full job to the build queue (confirmed, persistent, messageId = job id). */
  republish(job: BuildJob & { id: string }): Promise<void>;
  /** Publishes a full job to another queue, an arch's (confirmed, persistent, messageId = job id). */
  forward(queue: string, job: BuildJob & { id: string }): Promise<void>;
}
