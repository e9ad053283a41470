import type { BrokerChannel } from './broker.js';

export interface BuildQueueOptions {
  /** The work queue's name (KILN_QUEUE, `build_queue` by default). */
  queue: string;
  /** Deliveries of one message before RabbitMQ dead-letters it (KILN_DELIVERY_LIMIT). */
  deliveryLimit: number;
}

/** Where jobs that cannot be built (invalid, or redelivered too often) end up. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dead`;
}

/**
 * Declares the build queue and its dead-letter queue. The ONE place these
 * arguments are written: RabbitMQ refuses a redeclaration whose arguments
 * differ (PRECONDITION_FAILED closes the channel), so the crawler, the agent
 * and `kiln submit` must all declare through here.
 *
 * Quorum queues because jobs must survive a broker node's loss, and because
 * they count deliveries: a job that crashes every agent that takes it is
 * dead-lettered after `deliveryLimit` tries instead of looping forever.
 */
export async function declareBuildQueue(channel: BrokerChannel, options: BuildQueueOptions): Promise<void> {
  const dead = deadLetterQueueName(options.queue);
  await channel.assertQueue(dead, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.assertQueue(options.queue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': options.deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': dead,
    },
  });
}
