import {
  PhaseClock,
  backoffDelay,
  sleep,
  toError,
  type BackoffOptions,
  type Logger,
  type PhaseName,
} from '@kiln/shared';
import type { BuildEngine } from '../engine/types.js';
import type { AgentMetrics } from './agent-metrics.js';
import type { BuildEventPublisher } from './build-events.js';
import type { BuildRunner } from './build-runner.js';
import { errored } from './early-reports.js';
import type { AttemptRef, BuildResult, BuildStore, JobWithId } from './store/index.js';
import { admitJob } from './job-admission.js';
import { deliveredJob } from './delivered-job.js';
import type { JobDelivery } from './job-delivery.js';

/** Phases that end after the result is written, so the result cannot carry them. */
const AFTER_RESULT: readonly PhaseName[] = ['cleanup', 'record', 'ack'];

export interface JobHandlerOptions {
  agentId: string;
  queue: string;
  /** The arch of the queue this handler serves: a job on it that names none is built for it. */
  arch?: string;
  store: Pick<BuildStore, 'ensureQueued' | 'claim' | 'release' | 'finish' | 'addPhases'>;
  runner: Pick<BuildRunner, 'run'>;
  engine: Pick<BuildEngine, 'removeBuildResources'>;
  events: BuildEventPublisher;
  metrics: AgentMetrics;
  logger: Logger;
  leaseMs: number;
  /** The queue's x-delivery-limit: the delivery that reaches it is the job's last chance. */
  deliveryLimit: number;
  /** `stopping`: take nothing new. `shutdown`: aborts running builds when the grace period is over. */
  lifecycle: { readonly stopping: boolean; readonly shutdown: AbortSignal };
  /** Waits between tries of the database, and before a job that hit an infrastructure failure is requeued. */
  retry?: BackoffOptions;
  /** How often a delivery of a build another agent holds checks whether it is still held. */
  busyPollMs?: number;
}

/**
 * What a worker does with one message. Delivery is at least once; the
 * result is exactly once, because every decision goes through the build's
 * row: a finished build is acked without building, a build another live
 * attempt holds is waited for, and the result is written (guarded by the
 * attempt) before the message is acked.
 */
export class JobHandler {
  private readonly retry: BackoffOptions;

  constructor(private readonly options: JobHandlerOptions) {
    this.retry = options.retry ?? { initialMs: 500, maxMs: 30_000 };
  }

  async handle(delivery: JobDelivery): Promise<void> {
    const { logger } = this.options;
    const job = await deliveredJob(delivery, this.options);
    if (!job) return;
    try {
      if (job.id === undefined) await admitJob(delivery, job, this.options);
      else {
        const arch = job.arch ?? this.options.arch;
        await this.build(delivery, { ...job, id: job.id, ...(arch ? { arch } : {}) });
      }
    } catch (err) {
      // Reached only when the database or broker failed us outside a build.
      logger.error({ err }, 'could not handle the job; it goes back to the queue');
      await sleep(
        backoffDelay(delivery.previousDeliveries, this.retry),
        delivery.channelClosed,
        this.options.lifecycle.shutdown,
      );
      delivery.requeue();
    }
  }

  private async build(delivery: JobDelivery, job: JobWithId): Promise<void> {
    const { store, agentId, logger, metrics, lifecycle } = this.options;
    const log = logger.child({ buildId: job.id });
    const arrived = Date.now();
    const requested = job.requestedAt ? Date.parse(job.requestedAt) : Number.NaN;
    // One timeline from the request to the ack; a redelivery's queue wait is its own.
    const clock = new PhaseClock(delivery.previousDeliveries === 0 && requested <= arrived ? requested : arrived);
    if (clock.origin < arrived) clock.add('queue', clock.origin, arrived);
    const endClaim = clock.start('claim');
    await this.withDatabase(() => store.ensureQueued(job), delivery);
    let waitingLogged = false;
    for (;;) {
      const claim = await this.withDatabase(() => store.claim(job.id, agentId, this.options.leaseMs), delivery);
      if (claim.kind === 'finished') {
        log.info({ status: claim.status }, 'build already recorded: acknowledging the duplicate delivery');
        delivery.ack();
        metrics.jobs.inc({ status: 'duplicate' });
        return;
      }
      if (claim.kind === 'missing') throw new Error(`build ${job.id} has no row after it was recorded`);
      if (claim.kind === 'busy') {
        // Another attempt is alive (this is a redelivery after a channel or
        // connection loss): wait for it rather than build twice. Requeueing
        // instead would spend the job's delivery count while it builds.
        if (!waitingLogged)
          log.info({ owner: claim.agent, attempt: claim.attempt }, 'build held by a live attempt: waiting for it');
        waitingLogged = true;
        if (lifecycle.stopping) {
          delivery.requeue();
          return;
        }
        await sleep(
          this.options.busyPollMs ?? Math.min(5_000, Math.max(200, this.options.leaseMs / 3)),
          delivery.channelClosed,
          lifecycle.shutdown,
        );
        if (delivery.channelClosed.aborted) return;
        continue;
      }
      const ref: AttemptRef = { buildId: job.id, attempt: claim.attempt, agent: agentId };
      if (claim.attempt === 1) {
        metrics.queueWait.observe(
          Math.max(0, claim.startedAt.getTime() - Date.parse(job.requestedAt ?? claim.queuedAt.toISOString())) / 1000,
        );
      }
      endClaim();
      await this.runAttempt(delivery, job, ref, log, clock);
      return;
    }
  }

  private async runAttempt(
    delivery: JobDelivery,
    job: JobWithId,
    ref: AttemptRef,
    log: Logger,
    clock: PhaseClock,
  ): Promise<void> {
    const { store, metrics, lifecycle } = this.options;
    const started = Date.now();
    if (ref.attempt > 1) {
      // A dead attempt may have left containers behind: they go first.
      const removed = await this.options.engine.removeBuildResources(ref.buildId).catch((err: unknown) => {
        log.warn({ err }, "could not remove the previous attempt's containers");
        return 0;
      });
      if (removed > 0) log.info({ removed }, 'removed what the previous attempt left behind');
    }
    const outcome = await this.options.runner.run(job, ref, lifecycle.shutdown, clock);
    switch (outcome.kind) {
      case 'lost':
        metrics.jobs.inc({ status: 'discarded' });
        delivery.ack();
        return;
      case 'abandoned':
        await store
          .release(ref)
          .catch((err: unknown) => log.warn({ err }, 'could not give the build back; its lease will run out'));
        delivery.requeue();
        metrics.jobs.inc({ status: 'requeued' });
        log.info('build stopped by shutdown: back to the queue');
        return;
      case 'retry': {
        const deliveries = delivery.previousDeliveries + 1;
        if (delivery.previousDeliveries >= this.options.deliveryLimit) {
          const reason = `gave up after ${deliveries} deliveries: ${outcome.error.message}`;
          await this.record(
            delivery,
            ref,
            {
              report: errored(job.package ?? null, started, 'agent', reason),
              manifest: null,
              commit: job.commit ?? null,
              package: job.package ?? null,
            },
            log,
            started,
            clock,
          );
          return;
        }
        await store
          .release(ref)
          .catch((err: unknown) => log.warn({ err }, 'could not give the build back; its lease will run out'));
        await sleep(backoffDelay(delivery.previousDeliveries, this.retry), delivery.channelClosed, lifecycle.shutdown);
        delivery.requeue();
        metrics.jobs.inc({ status: 'requeued' });
        return;
      }
      case 'result': {
        const recorded = outcome.result.report.timings?.length ?? 0;
        await this.record(delivery, ref, outcome.result, log, started, clock);
        // The containers and the workspace went while the result was written.
        await outcome.cleanedUp;
        const after = clock.timings().filter((p) => AFTER_RESULT.includes(p.phase));
        await store
          .addPhases(ref, new Date(clock.origin), after, recorded)
          .catch((err: unknown) => log.warn({ err }, 'could not record the timings of record, ack and cleanup'));
        return;
      }
    }
  }

  /** Writes the result (retrying while the database is away), then acks: never the other way round. */
  private async record(
    delivery: JobDelivery,
    ref: AttemptRef,
    result: BuildResult,
    log: Logger,
    started: number,
    clock: PhaseClock,
  ): Promise<void> {
    const { store, metrics, events, lifecycle } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        const recorded = await clock.time('record', () => store.finish(ref, result));
        const status = result.report.status;
        if (!recorded) {
          log.warn('a newer attempt owns this build: discarding this result');
          metrics.jobs.inc({ status: 'discarded' });
          delivery.ack();
          return;
        }
        await clock.time('ack', async () => delivery.ack());
        metrics.jobs.inc({ status });
        metrics.buildDuration.observe({ status }, (Date.now() - started) / 1000);
        events.publish(ref.buildId, 'finished', {
          attempt: ref.attempt,
          status,
          package: result.package,
          durationMs: result.report.durationMs,
          error: result.report.error,
        });
        log.info({ status, durationMs: result.report.durationMs, package: result.package }, 'build recorded');
        return;
      } catch (thrown) {
        const err = toError(thrown);
        if (lifecycle.shutdown.aborted) {
          // Shutting down and the database still away: the job goes back; the next agent builds it again.
          log.error({ err }, 'could not record the result before shutdown: the job goes back to the queue');
          delivery.requeue();
          return;
        }
        log.warn({ err, attempt }, 'could not record the result; retrying (the message stays unacknowledged)');
        await sleep(backoffDelay(attempt, this.retry), lifecycle.shutdown);
      }
    }
  }

  /** Database calls outside a build: retried with backoff for as long as the delivery is worth holding. */
  private async withDatabase<T>(work: () => Promise<T>, delivery: JobDelivery): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (attempt >= 5 || this.options.lifecycle.stopping || delivery.channelClosed.aborted) throw err;
        this.options.logger.warn({ err, attempt }, 'database call failed; retrying');
        await sleep(backoffDelay(attempt, this.retry), delivery.channelClosed);
      }
    }
  }
}
