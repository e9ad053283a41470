import {
  amqpConnector,
  assertDatabaseReachable,
  createPool,
  InfrastructureError,
  migrationStatus,
  toError,
  type Config,
  type Logger,
  type Pool,
} from '@kiln/shared';
import { GitHeadLister, type HeadLister } from './git/ls-remote.js';
import { countUnpublished } from './outbox/outbox-store.js';
import { OutboxRelay } from './outbox/outbox-relay.js';
import { garbageCollector } from './poll/collect-garbage.js';
import { Crawler } from './poll/crawler.js';
import { AmqpJobPublisher } from './publish/amqp-job-publisher.js';
import type { JobPublisher } from './publish/job-publisher.js';
import { PgRefStore } from './refs/pg-ref-store.js';
import { WatchList } from './sources/watch-list.js';
import { WebhookServer } from './webhook/webhook-server.js';

export interface RunningCrawler {
  crawler: Crawler;
  relay: OutboxRelay;
  watchList: WatchList;
  /** The port webhooks are served on (null with `serve: false`). */
  port: number | null;
  close(): Promise<void>;
}

export interface StartCrawlerOptions {
  /** Poll every interval (default) or only when asked (`crawler.pollOnce()`). */
  poll?: boolean;
  /** Serve webhooks (default true). */
  serve?: boolean;
  /** Replace the real clients (benchmarks). */
  publisher?: JobPublisher;
  lister?: HeadLister;
  pool?: Pool;
}

/**
 * Builds the crawler's real clients from the configuration and starts it:
 * poller, outbox relay and webhook server. RabbitMQ being down does not stop
 * it (jobs wait in the outbox); PostgreSQL being down at start does, with a
 * line that says what to fix.
 */
export async function startCrawler(
  config: Config,
  logger: Logger,
  options: StartCrawlerOptions = {},
): Promise<RunningCrawler> {
  const pool = options.pool ?? createPool(config.KILN_DATABASE_URL, { max: 6, applicationName: 'kiln-crawler' });
  const cleanups: Array<() => Promise<void>> = [];
  if (!options.pool) cleanups.push(() => pool.end());
  try {
    await assertDatabaseReachable(pool, config.KILN_DATABASE_URL);
    const status = await migrationStatus(pool);
    if (status.pending.length > 0) {
      throw new InfrastructureError(`the database needs migrations (${status.pending.join(', ')}): run "kiln migrate"`);
    }
    const publisher =
      options.publisher ??
      new AmqpJobPublisher({
        connect: amqpConnector(config.KILN_AMQP_URL, { logger }),
        queue: config.KILN_QUEUE,
        deliveryLimit: config.KILN_DELIVERY_LIMIT,
        logger,
      });
    cleanups.unshift(() => publisher.close());
    const relay = new OutboxRelay({ pool, publisher, logger });
    const watchList = new WatchList({ repos: config.KILN_REPOS, root: config.KILN_REPO_ROOT, logger });
    const crawler = new Crawler({
      watchList,
      lister: options.lister ?? new GitHeadLister({ timeoutMs: config.KILN_GIT_TIMEOUT }),
      store: new PgRefStore(pool),
      onJobs: () => relay.wake(),
      logger,
      intervalMs: config.KILN_POLL_INTERVAL * 1000,
      concurrency: config.KILN_POLL_CONCURRENCY,
      afterCycle: garbageCollector(),
    });
    if (!config.KILN_REPO_ROOT && watchList.repos.length === 0) {
      logger.warn('no repositories to watch: set KILN_REPOS or KILN_REPO_ROOT');
    }
    relay.start();
    cleanups.unshift(() => relay.close());
    let port: number | null = null;
    if (options.serve !== false) {
      const server = new WebhookServer({
        watchList,
        secret: config.KILN_WEBHOOK_SECRET,
        logger,
        onPush: (repo, trigger) => void crawler.trigger(repo, trigger),
        health: async () => ({
          repos: watchList.repos.length,
          cycles: crawler.cycleCount,
          unpublished: await countUnpublished(pool),
        }),
      });
      port = await server.listen(config.KILN_WEBHOOK_PORT);
      cleanups.unshift(() => server.close());
      if (!config.KILN_WEBHOOK_SECRET)
        logger.warn(
          'KILN_WEBHOOK_SECRET is not set: webhooks are refused; post-receive hooks are accepted from this host only',
        );
    }
    if (options.poll !== false) crawler.start();
    cleanups.unshift(() => crawler.close());
    logger.info(
      {
        port,
        repos: watchList.repos.length,
        root: config.KILN_REPO_ROOT ?? null,
        intervalSeconds: config.KILN_POLL_INTERVAL,
      },
      'crawler started',
    );
    return {
      crawler,
      relay,
      watchList,
      port,
      close: () => runAll(cleanups, logger),
    };
  } catch (err) {
    await runAll(cleanups, logger);
    throw err;
  }
}

/** Shutdown runs every step even when one fails. */
async function runAll(steps: Array<() => Promise<void>>, logger: Logger): Promise<void> {
  for (const step of steps.splice(0)) {
    try {
      await step();
    } catch (err) {
      logger.warn({ err: toError(err).message }, 'shutdown step failed');
    }
  }
}
