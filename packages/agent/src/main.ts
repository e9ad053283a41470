import Docker from 'dockerode';
import {
  InvalidInputError,
  assertDatabaseReachable,
  amqpConnector,
  createPool,
  migrationStatus,
  servedArches,
  type Config,
  type Logger,
} from '@kiln/shared';
import type { BuildEngine } from './engine/types.js';
import {
  NotificationSender,
  createSmtpMailer,
  queueFailureNotification,
  queueSuccessNotification,
} from './notify/index.js';
import { BuildAnalyst, DockerImageLibraries } from './intel/index.js';
import { AgentService, createGitCheckout, type FailureNotifications } from './service/index.js';

export interface StartAgentOptions {
  logger: Logger;
  /** Workers; KILN_CONCURRENCY when absent. */
  concurrency?: number;
  /** The build engine (built from config by the caller: it owns the Docker client). */
  engine: BuildEngine;
  env?: Record<string, string | undefined>;
}

export interface RunningAgent {
  service: AgentService;
  /** Rejects when the agent cannot go on. */
  failed: Promise<never>;
  /** Graceful: stop taking jobs, let builds finish within KILN_SHUTDOWN_GRACE, requeue the rest. */
  stop(): Promise<void>;
}

/**
 * The agent's composition root: the one place that turns configuration into
 * real clients (database pool, RabbitMQ, git, SMTP) and wires them together.
 */
export async function startAgent(config: Config, options: StartAgentOptions): Promise<RunningAgent> {
  const { logger } = options;
  const concurrency = options.concurrency ?? config.KILN_CONCURRENCY;
  // Per worker: the claim and result, live logs, stage progress; plus the sender and health checks.
  const pool = createPool(config.KILN_DATABASE_URL, {
    max: Math.min(100, concurrency * 3 + 4),
    applicationName: `kiln-agent ${config.KILN_AGENT_ID}`,
  });
  try {
    await assertDatabaseReachable(pool, config.KILN_DATABASE_URL);
    const { pending } = await migrationStatus(pool);
    if (pending.length > 0)
      throw new InvalidInputError(`the database lacks migrations ${pending.join(', ')}: run "kiln migrate" first`);
    // A host that cannot firewall its build network finds out now, not in every build.
    await options.engine.prepareNetwork();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const served = await servedArches({ configured: config.KILN_ARCHS });
  logger.info(
    { arches: served.arches, native: served.native, from: served.source, handlers: served.handlers },
    served.source === 'KILN_ARCHS'
      ? 'builds for the arches KILN_ARCHS names'
      : "builds for this host's arch and those its enabled qemu binfmt handlers run",
  );

  const sender = new NotificationSender({
    db: pool,
    listen: pool,
    mailer: createSmtpMailer({ url: config.KILN_SMTP_URL, from: config.KILN_MAIL_FROM, logger }),
    logger: logger.child({ component: 'notify' }),
    ...(config.KILN_PUBLIC_URL ? { publicUrl: config.KILN_PUBLIC_URL } : {}),
  });
  const notifications: FailureNotifications = {
    async queue(db, failure) {
      await queueFailureNotification(db, failure);
    },
    async queueSuccess(db, success) {
      await queueSuccessNotification(db, success, { repos: config.KILN_NOTIFY_SUCCESS_REPOS });
    },
  };
  const service = new AgentService({
    agentId: config.KILN_AGENT_ID,
    packageOwners: config.KILN_PACKAGE_OWNERS,
    analyst: new BuildAnalyst(new DockerImageLibraries(new Docker(), logger), logger, {
      repos: config.KILN_REBUILD_DEPENDENTS,
      onLibraryChange: config.KILN_REBUILD_ON_LIBRARY_CHANGE,
      perHour: config.KILN_REBUILD_PER_HOUR,
    }),
    // Heartbeats every 15 s: a dead broker (or network) is noticed after about 30.
    connectBroker: amqpConnector(config.KILN_AMQP_URL, { noDelay: true, heartbeat: 15, logger }),
    queue: config.KILN_QUEUE,
    arches: served.arches,
    nativeArch: served.native,
    deliveryLimit: config.KILN_DELIVERY_LIMIT,
    eventsExchange: config.KILN_EVENTS_EXCHANGE,
    concurrency,
    pool,
    engine: options.engine,
    checkout: createGitCheckout({
      cacheDir: config.KILN_CACHE_DIR,
      timeoutMs: config.KILN_GIT_TIMEOUT,
      logger,
      env: options.env,
    }),
    notifications,
    logger,
    workDir: config.KILN_WORK_DIR,
    artifactDir: config.KILN_ARTIFACT_DIR,
    artifactFormat: config.KILN_ARTIFACT_FORMAT,
    hostEnv: config.KILN_ALLOW_INHERIT_ENV ? (options.env ?? process.env) : undefined,
    logLimitBytes: config.KILN_LOG_LIMIT,
    leaseMs: config.KILN_LEASE,
    shutdownGraceMs: config.KILN_SHUTDOWN_GRACE,
    metricsPort: config.KILN_METRICS_PORT,
  });
  try {
    await service.start();
  } catch (err) {
    await service.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw err;
  }
  sender.start();

  let stopped: Promise<void> | null = null;
  return {
    service,
    failed: service.failed,
    stop() {
      stopped ??= (async () => {
        await service.stop().catch((err: unknown) => logger.error({ err }, 'stopping the agent failed'));
        await sender.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the notification sender failed'));
        await pool.end().catch(() => undefined);
      })();
      return stopped;
    },
  };
}

export { createDockerEngine, setUpBuildNetwork } from './engine-main.js';
