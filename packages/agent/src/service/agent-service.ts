import {
  archQueueName,
  debianHostArch,
  declareArchQueue,
  declareBuildQueue,
  type BrokerConnection,
} from '@kiln/shared';
import { cleanUpAfterDeadAgents, startAbandonSweep } from './agent-housekeeping.js';
import type { AgentServiceOptions } from './agent-options.js';

export type { AgentServiceOptions } from './agent-options.js';
import { AgentMetrics } from './agent-metrics.js';
import { AgentPresence } from './agent-presence.js';
import { AmqpBuildEvents } from './amqp-build-events.js';
import { BrokerSession, sleep } from '@kiln/shared';
import { BuildRunner } from './build-runner.js';
import { startConsumers } from './agent-consumers.js';
import { BuildStore } from './store/index.js';
import { CancelListener } from './cancel-listener.js';
import { startHealthServer, type AgentHealth, type HealthServer } from './health-server.js';
import { JobHandler } from './job-handler.js';
import type { QueueWorker } from './queue-worker.js';

/**
 * `kiln agent`: N routers on the build queue, which turn each job into one
 * job per arch on `<queue>.<arch>`, and N workers on the queue of each arch
 * it serves, no more than N of them building at once; all share one
 * reconnecting broker connection, one database pool and one engine. Many
 * agents on many hosts share the queues the same way its workers do.
 */
export class AgentService {
  readonly metrics: AgentMetrics;
  private readonly session: BrokerSession;
  private readonly events: AmqpBuildEvents;
  private readonly cancels: CancelListener;
  private readonly workers: QueueWorker[] = [];
  private readonly shutdown = new AbortController();
  /** Aborts when the agent stops taking jobs: a worker waiting for a build slot gives its message back. */
  private readonly draining = new AbortController();
  private abandonTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private health: HealthServer | null = null;
  private fatal: ((err: Error) => void) | null = null;
  private stopped: Promise<void> | null = null;
  private presence: AgentPresence | null = null;
  /** Build workers running a job now (routers excluded): what the agents table says is busy. */
  private busyBuilds = 0;
  /** Rejects when the agent cannot go on (the broker refuses the queue declaration). */
  readonly failed: Promise<never>;

  /** This host's arch, and the arches this agent builds for (default: this host's only). */
  private readonly nativeArch: string;
  private readonly arches: readonly string[];

  constructor(private readonly options: AgentServiceOptions) {
    this.nativeArch = options.nativeArch ?? debianHostArch();
    this.arches = options.arches?.length ? [...new Set(options.arches)] : [this.nativeArch];
    this.metrics = options.metrics ?? new AgentMetrics();
    this.failed = new Promise<never>((_resolve, reject) => {
      this.fatal = reject;
    });
    this.failed.catch(() => undefined);
    this.events = new AmqpBuildEvents(options.eventsExchange, options.logger);
    this.cancels = new CancelListener(options.eventsExchange, options.logger);
    this.session = new BrokerSession({
      connect: options.connectBroker,
      logger: options.logger,
      setup: (connection) => this.setup(connection),
      onFatal: (err) => {
        options.logger.fatal({ err: err.message }, 'RabbitMQ refused the build queue declaration');
        this.fatal?.(
          new Error(
            `RabbitMQ refused to declare ${options.queue}: ${err.message} (another definition of the queue exists?)`,
            { cause: err },
          ),
        );
      },
      onStateChange: (up) => this.metrics.brokerUp.set(up ? 1 : 0),
    });
  }

  get port(): number | null {
    return this.health?.port ?? null;
  }

  async start(): Promise<void> {
    const { options } = this;
    const store = new BuildStore(options.pool, options.notifications, options.packageOwners, options.analyst);
    await cleanUpAfterDeadAgents(options);
    this.abandonTimer = startAbandonSweep(store, options);
    const runner = new BuildRunner({
      store,
      db: options.pool,
      checkout: options.checkout,
      engine: options.engine,
      events: this.events,
      cancels: this.cancels,
      workDir: options.workDir,
      artifactDir: options.artifactDir,
      ...(options.artifactFormat ? { artifactFormat: options.artifactFormat } : {}),
      hostEnv: options.hostEnv,
      leaseMs: options.leaseMs,
      renewEveryMs: Math.max(100, Math.floor(options.leaseMs / 4)),
      logLimitBytes: options.logLimitBytes,
      logger: options.logger,
    });
    const isStopping = (): boolean => this.stopping;
    const lifecycle = {
      get stopping() {
        return isStopping();
      },
      shutdown: this.shutdown.signal,
    };
    const { nativeArch, arches } = this;
    this.metrics.workers.set(options.concurrency);
    if (options.metricsPort !== undefined) {
      this.health = await startHealthServer({
        port: options.metricsPort,
        metrics: this.metrics,
        health: () => this.checkHealth(),
        logger: options.logger,
      }).catch((err: unknown) => {
        // A second agent on one host: builds matter more than its metrics.
        options.logger.error(
          { err, port: options.metricsPort },
          'could not serve /metrics and /healthz; going on without',
        );
        return null;
      });
    }
    const presence = new AgentPresence({
      db: options.pool,
      agentId: options.agentId,
      arch: arches.join(','),
      workers: options.concurrency,
      busy: () => this.busyBuilds,
      logger: options.logger,
    });
    this.presence = presence;
    this.session.start();
    this.workers.push(
      ...startConsumers({
        queue: options.queue,
        deliveryLimit: options.deliveryLimit,
        agentId: options.agentId,
        concurrency: options.concurrency,
        arches,
        nativeArch,
        session: this.session,
        checkout: options.checkout,
        store,
        metrics: this.metrics,
        logger: options.logger,
        lifecycle,
        draining: this.draining.signal,
        consumerTimeoutMs: options.consumerTimeoutMs ?? 24 * 3_600_000,
        onBusy: (busy) => {
          this.busyBuilds += busy ? 1 : -1;
          presence.changed();
        },
        handler: (arch) =>
          new JobHandler({
            agentId: options.agentId,
            queue: archQueueName(options.queue, arch),
            arch,
            store,
            runner,
            engine: options.engine,
            events: this.events,
            metrics: this.metrics,
            logger: options.logger,
            leaseMs: options.leaseMs,
            deliveryLimit: options.deliveryLimit,
            lifecycle,
          }),
      }),
    );
    presence.start();
    options.logger.info(
      {
        agent: options.agentId,
        workers: options.concurrency,
        queue: options.queue,
        arches,
        archQueues: arches.map((a) => archQueueName(options.queue, a)),
        metricsPort: this.health?.port,
      },
      'agent started',
    );
  }

  /**
   * Stops taking jobs, lets running builds finish within the grace period,
   * then stops them and gives them back to the queue. Every step runs even
   * when one fails.
   */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  /** Stops running builds now (they are requeued): a second Ctrl-C. */
  abortRunningBuilds(): void {
    this.shutdown.abort();
  }

  private async doStop(): Promise<void> {
    const { logger, shutdownGraceMs } = this.options;
    this.stopping = true;
    this.draining.abort();
    clearInterval(this.abandonTimer);
    await Promise.all(this.workers.map((w) => w.stopConsuming()));
    const busy = this.workers.filter((w) => w.busy).length;
    if (busy > 0) logger.info({ busy, graceMs: shutdownGraceMs }, 'stopping: waiting for running builds');
    const allIdle = Promise.all(this.workers.map((w) => w.idle()));
    const graceOver = new AbortController();
    const inTime = await Promise.race([
      allIdle.then(() => true),
      sleep(shutdownGraceMs, graceOver.signal).then(() => false),
    ]);
    graceOver.abort();
    if (!inTime) {
      logger.warn('grace period over: stopping the running builds and requeueing them');
      this.shutdown.abort();
      await allIdle;
    }
    await Promise.all(
      this.workers.map((w) => w.close().catch((err: unknown) => logger.warn({ err }, 'closing a worker failed'))),
    );
    await this.presence?.stop();
    await this.session.close().catch((err: unknown) => logger.warn({ err }, 'closing the RabbitMQ connection failed'));
    await this.health?.close().catch(() => undefined);
    logger.info('agent stopped');
  }

  private async setup(connection: BrokerConnection): Promise<void> {
    const channel = await connection.createChannel();
    // A refused declaration closes the channel with an 'error' event: the rejected call below reports it.
    channel.on('error', () => undefined);
    try {
      const queue = { queue: this.options.queue, deliveryLimit: this.options.deliveryLimit };
      await declareBuildQueue(channel, queue);
      for (const arch of this.arches) await declareArchQueue(channel, queue, arch);
      await channel.assertExchange(this.options.eventsExchange, 'topic', { durable: true });
    } finally {
      await channel.close().catch(() => undefined);
    }
    await this.events.attach(connection);
    await this.cancels.attach(connection);
  }

  async checkHealth(): Promise<AgentHealth> {
    const database = await Promise.race([
      this.options.pool.query('SELECT 1').then(
        () => 'ok' as const,
        () => 'unreachable' as const,
      ),
      sleep(2_000).then(() => 'unreachable' as const),
    ]);
    const broker = this.session.connected ? ('connected' as const) : ('disconnected' as const);
    return {
      status: this.stopping ? 'stopping' : broker === 'connected' && database === 'ok' ? 'ok' : 'degraded',
      broker,
      database,
      workers: { total: this.workers.length, busy: this.workers.filter((w) => w.busy).length },
      agent: this.options.agentId,
    };
  }
}
