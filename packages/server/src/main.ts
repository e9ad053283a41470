import type { FastifyInstance } from 'fastify';
import { AmqpJobPublisher, resolveHead, submitBuild } from '@kiln/crawler';
import {
  ChangeListener,
  amqpConnector,
  InvalidInputError,
  assertDatabaseReachable,
  createPool,
  migrationStatus,
  type Config,
  type Logger,
} from '@kiln/shared';
import { buildApp } from './app.js';
import { AnswerCache } from './cache/answer-cache.js';
import { buildEventTables } from './cache/answer-tables.js';
import { debianHostArch } from '@kiln/shared';
import type { BuildSubmitter } from './db/build-actions.js';
import { AmqpLiveFeed } from './live/live-feed.js';
import { ArtifactStore } from './repo/artifact-store.js';
import { PackageIndex } from './repo/package-index.js';
import { loadSigner } from './repo/signing-key.js';
import { FleetMetrics } from './metrics/fleet-metrics.js';
import { QueueDepths } from './metrics/queue-depths.js';

export interface RunningServer {
  app: FastifyInstance;
  port: number;
  url: string;
  /** Stops listening, ends open event streams, closes the broker connection and the pool; every step runs. */
  close(): Promise<void>;
}

/** `kiln server`'s composition root: configuration in, real clients wired to the HTTP application. */
export async function startServer(
  config: Config,
  options: { logger: Logger; followPollMs?: number; checkResponses?: boolean },
): Promise<RunningServer> {
  const { logger } = options;
  const signer = config.KILN_SIGNING_KEY ? await loadSigner(config.KILN_SIGNING_KEY) : null;
  if (!signer)
    logger.warn('no KILN_SIGNING_KEY: /repo/index.json is served unsigned ("kiln keys generate" makes a key)');
  const db = createPool(config.KILN_DATABASE_URL, { max: 20, applicationName: 'kiln-server' });
  try {
    await assertDatabaseReachable(db, config.KILN_DATABASE_URL);
    const { pending } = await migrationStatus(db);
    if (pending.length > 0)
      throw new InvalidInputError(`the database lacks migrations ${pending.join(', ')}: run "kiln migrate" first`);
  } catch (err) {
    await db.end().catch(() => undefined);
    throw err;
  }
  // Public read answers, kept until PostgreSQL says something they were read from changed (migration 017's
  // notifications, after each commit, whoever wrote) or a build event arrives; nothing is kept while the
  // listening connection is down.
  const answers =
    config.KILN_HTTP_CACHE_MB > 0
      ? new AnswerCache({ maxBytes: config.KILN_HTTP_CACHE_MB * 1024 * 1024, ttlMs: 60_000 })
      : undefined;
  const changes = answers
    ? new ChangeListener({
        url: config.KILN_DATABASE_URL,
        logger,
        onChange: (change) => answers.changed([change.table], change.builds),
        onState: (listening) => answers.setListening(listening),
      })
    : null;
  changes?.start();
  const live = new AmqpLiveFeed({
    connect: amqpConnector(config.KILN_AMQP_URL, { noDelay: true, heartbeat: 15, logger }),
    exchange: config.KILN_EVENTS_EXCHANGE,
    logger,
    onBuildEvent: (build, kind) => answers?.changed(buildEventTables(kind), [build]),
  });
  live.start();
  const publisher = new AmqpJobPublisher({
    connect: amqpConnector(config.KILN_AMQP_URL, { logger }),
    queue: config.KILN_QUEUE,
    deliveryLimit: config.KILN_DELIVERY_LIMIT,
    logger,
  });
  const depths = new QueueDepths({ connect: amqpConnector(config.KILN_AMQP_URL, { logger }), logger });
  const metrics = new FleetMetrics({
    db,
    depths,
    queue: config.KILN_QUEUE,
    logger,
    ...(answers ? { answers: () => ({ ...answers.stats, entries: answers.size }) } : {}),
  });
  const submitter: BuildSubmitter = {
    submit: (request) =>
      submitBuild(request, {
        resolve: (repo, branch) => resolveHead(repo, branch, { timeoutMs: config.KILN_GIT_TIMEOUT }),
        pool: db,
        publisher,
      }),
  };
  const arch = debianHostArch();
  const artifacts = new ArtifactStore(config.KILN_ARTIFACT_DIR);
  const index = new PackageIndex({ db, arch, artifactPath: (stored) => artifacts.local(stored), signer, logger });
  const app = await buildApp({
    db,
    live,
    logger,
    arch,
    ...(answers ? { answers } : {}),
    auth: config.KILN_HTTP_AUTH,
    corsOrigins: config.KILN_HTTP_CORS_ORIGINS,
    index,
    artifacts,
    signer,
    submitter,
    metrics,
    ...(options.followPollMs ? { followPollMs: options.followPollMs } : {}),
    checkResponses: options.checkResponses ?? false,
  });
  const cleanup = async (): Promise<void> => {
    await app.close().catch((err: unknown) => logger.warn({ err }, 'closing the HTTP server failed'));
    await live.close().catch((err: unknown) => logger.warn({ err }, 'closing the events connection failed'));
    await changes?.close().catch(() => undefined);
    await publisher.close().catch(() => undefined);
    await depths.close();
    await db.end().catch(() => undefined);
  };
  try {
    await app.listen({ port: config.KILN_HTTP_PORT, host: config.KILN_HTTP_HOST });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.KILN_HTTP_PORT;
  const shownHost =
    config.KILN_HTTP_HOST === '0.0.0.0' || config.KILN_HTTP_HOST === '::' ? '127.0.0.1' : config.KILN_HTTP_HOST;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  logger.info({ url, arch, signed: signer !== null, auth: config.KILN_HTTP_AUTH }, 'server started');
  let closed: Promise<void> | null = null;
  return {
    app,
    port,
    url,
    close() {
      closed ??= cleanup();
      return closed;
    },
  };
}
