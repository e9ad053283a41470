import { randomUUID } from 'node:crypto';
import { parseReleaseBranch, redactRepo, type BuildJob, type Logger } from '@kiln/shared';
import type { AgentMetrics } from './agent-metrics.js';
import type { JobDelivery } from './job-delivery.js';
import { uuidFromName } from './stable-id.js';
import type { BuildStore, JobWithId } from './store/index.js';

export interface AdmissionOptions {
  queue: string;
  store: Pick<BuildStore, 'ensureQueued'>;
  metrics: AgentMetrics;
  logger: Logger;
}

/**
 * A job without an id (dropped by hand) gets one and goes back to the queue
 * in full form, so that from here on every delivery of it names the same
 * build. The id comes from the message id when there is one (a redelivery
 * of the hand-dropped message then maps to the same build); without one, a
 * crash between the confirmed republish and the ack below makes a second
 * build: the one window left, and a narrow one.
 */
export async function admitJob(delivery: JobDelivery, job: BuildJob, options: AdmissionOptions): Promise<void> {
  const full = withAdmittedId(delivery, job, options.queue);
  const { id } = full;
  await delivery.republish(full);
  // After the republish: were it before, a failed publish would leave a row no message ever builds.
  await options.store.ensureQueued(full).catch((err: unknown) => {
    options.logger.warn({ err, buildId: id }, 'could not record the queued build yet; its first worker will');
  });
  delivery.ack();
  options.metrics.jobs.inc({ status: 'admitted' });
  options.logger.info({ buildId: id, repo: redactRepo(job.repo), branch: job.branch }, 'admitted a job without id');
}

/** The job in full form: its own id, or one made for it (the same for every delivery of a message with an id). */
export function withAdmittedId(delivery: Pick<JobDelivery, 'messageId'>, job: BuildJob, queue: string): JobWithId {
  const id = job.id ?? (delivery.messageId ? uuidFromName(`${queue}\n${delivery.messageId}`) : randomUUID());
  const release = job.branch ? parseReleaseBranch(job.branch) : null;
  return {
    ...job,
    id,
    trigger: job.trigger ?? 'manual',
    requestedAt: job.requestedAt ?? new Date().toISOString(),
    ...(job.package || !release ? {} : { package: release }),
  };
}
