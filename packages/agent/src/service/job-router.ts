import { archQueueName, readManifestFrom, redactRepo, toError, type Logger } from '@kiln/shared';
import type { AgentMetrics } from './agent-metrics.js';
import type { Checkout } from './checkout.js';
import { withAdmittedId } from './job-admission.js';
import { deliveredJob } from './delivered-job.js';
import type { JobDelivery } from './job-delivery.js';
import { uuidFromName } from './stable-id.js';
import type { BuildStore, JobWithId } from './store/index.js';

export interface JobRouterOptions {
  /** The build queue (KILN_QUEUE): where people drop jobs; arch queues are `<queue>.<arch>`. */
  queue: string;
  /** The arch a job goes to when its manifest names none (or cannot be read here): this host's. */
  nativeArch: string;
  checkout: Pick<Checkout, 'resolve'>;
  store: Pick<BuildStore, 'ensureQueued'>;
  /** Declares an arch's queue (idempotent): a publish to a queue that does not exist is lost. */
  declareArchQueue: (arch: string) => Promise<void>;
  metrics: AgentMetrics;
  logger: Logger;
  lifecycle: { readonly stopping: boolean };
}

/**
 * The build queue's consumer: every job dropped on it becomes one job per
 * arch, on that arch's queue, where only agents that serve the arch take it.
 * A job that names its arch goes there; one that does not goes to every arch
 * its manifest lists (read at the commit, which every arch then builds), or
 * to this host's arch when the manifest lists none. The job's id stays with
 * the first arch; each further arch's id is derived from it (uuid v5 of the
 * id and the arch), so a parent delivered twice routes to the same builds.
 * The parent is acked only after the broker confirmed every child.
 */
export class JobRouter {
  constructor(private readonly options: JobRouterOptions) {}

  async handle(delivery: JobDelivery): Promise<void> {
    const { logger, metrics } = this.options;
    const job = await deliveredJob(delivery, this.options);
    if (!job) return;
    try {
      const parent = withAdmittedId(delivery, job, this.options.queue);
      const children = await this.fanOut(parent, delivery.channelClosed);
      for (const child of children) {
        await this.options.declareArchQueue(child.arch);
        await delivery.forward(archQueueName(this.options.queue, child.arch), child);
      }
      // After the confirmed publishes: were it before, a failed publish would leave rows no message builds.
      // The rows make a waiting arch visible (kiln status) before any agent takes it.
      for (const child of children) {
        await this.options.store.ensureQueued(child).catch((err: unknown) => {
          logger.warn({ err, buildId: child.id }, 'could not record the queued build yet; its first worker will');
        });
      }
      delivery.ack();
      metrics.jobs.inc({ status: 'routed' });
      logger.info(
        { repo: redactRepo(parent.repo), branch: parent.branch, builds: children.map((c) => `${c.arch}:${c.id}`) },
        'routed a job',
      );
    } catch (err) {
      logger.error({ err }, 'could not route the job; it goes back to the queue');
      delivery.requeue();
    }
  }

  /** One job per arch, each with its arch and id. */
  private async fanOut(parent: JobWithId, signal: AbortSignal): Promise<Array<JobWithId & { arch: string }>> {
    if (parent.arch) return [{ ...parent, arch: parent.arch }];
    const found = await this.manifestArches(parent, signal);
    const job: JobWithId = {
      ...parent,
      ...(found.commit ? { commit: found.commit } : {}),
      ...(found.branch && !parent.branch ? { branch: found.branch } : {}),
    };
    return found.arches.map((arch, i) => ({ ...job, arch, id: i === 0 ? job.id : uuidFromName(`${job.id}\n${arch}`) }));
  }

  /**
   * The manifest's arch list at the job's commit. When it cannot be read
   * here (no such branch, an invalid manifest, the server away), the job goes
   * on to this host's arch as it is: its build finds the same problem and
   * records it as it always did.
   */
  private async manifestArches(
    job: JobWithId,
    signal: AbortSignal,
  ): Promise<{ arches: string[]; commit?: string; branch?: string }> {
    const native = { arches: [this.options.nativeArch] };
    try {
      const resolved = await this.options.checkout.resolve({
        repo: job.repo,
        ...(job.branch ? { branch: job.branch } : {}),
        ...(job.commit ? { commit: job.commit } : {}),
        signal,
      });
      const manifest = await readManifestFrom((file) => resolved.readFile(file));
      return {
        arches: manifest.arch ?? native.arches,
        commit: resolved.commit,
        ...(resolved.branch ? { branch: resolved.branch } : {}),
      };
    } catch (err) {
      this.options.logger.info(
        { buildId: job.id, err: toError(err).message },
        "could not read the job's manifest: it goes to this host's arch, whose build reports the problem",
      );
      return native;
    }
  }
}
