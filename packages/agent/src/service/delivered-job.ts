import { parseBuildJob, type BuildJob, type Logger } from '@kiln/shared';
import type { AgentMetrics } from './agent-metrics.js';
import type { JobDelivery } from './job-delivery.js';

export interface DeliveredJobOptions {
  metrics: AgentMetrics;
  logger: Logger;
  lifecycle: { readonly stopping: boolean };
}

/**
 * The build job a delivery carries, or null when there is none to act on:
 * the agent is stopping (the message goes back to the queue), or the body is
 * not a build job (dead-lettered with the reason; requeued if even that fails).
 */
export async function deliveredJob(delivery: JobDelivery, options: DeliveredJobOptions): Promise<BuildJob | null> {
  const { logger, metrics } = options;
  if (options.lifecycle.stopping) {
    delivery.requeue();
    return null;
  }
  const parsed = parseBuildJob(delivery.body);
  if (parsed.ok) return parsed.job;
  logger.warn(
    { reason: parsed.reason, messageId: delivery.messageId },
    'dead-lettering a message that is not a build job',
  );
  try {
    await delivery.deadLetter(parsed.reason);
    delivery.ack();
    metrics.jobs.inc({ status: 'invalid' });
  } catch (err) {
    logger.error({ err }, 'could not dead-letter the message; it goes back to the queue');
    delivery.requeue();
  }
  return null;
}
