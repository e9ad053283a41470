import { waitFor } from './wait.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  connectAmqp,
  createLogger,
  debianHostArch,
  declareBuildQueue,
  deadLetterQueueName,
  loadConfig,
  type Logger,
  type Pool,
} from '@kiln/shared';
import { createDockerEngine, engineOptionsFromConfig, startAgent, type RunningAgent } from '@kiln/agent';
import type { QueueStats } from './broker.js';
import { createTestRepo, type TestRepo } from './git.js';

const run = promisify(execFile);

/** A manifest that builds and installs one small executable in kiln/busybox. */
export function helloManifest(options: { sleepSeconds?: number; maintainer?: string } = {}): string {
  return [
    'image: kiln/busybox:latest',
    ...(options.maintainer ? ['package:', `  maintainer: ${options.maintainer}`] : []),
    'stages: [build]',
    'build:',
    '  script:',
    '    - echo building',
    ...(options.sleepSeconds ? [`    - sleep ${options.sleepSeconds}`, '    - echo slept'] : []),
    `    - printf '#!/bin/sh\\necho hello\\n' > hello`,
    'install:',
    '  script:',
    '    - mkdir -p "$DESTDIR/usr/bin"',
    '    - cp hello "$DESTDIR/usr/bin/hello" && chmod 755 "$DESTDIR/usr/bin/hello"',
    '',
  ].join('\n');
}

export const FAILING_MANIFEST = [
  'image: kiln/busybox:latest',
  'stages: [build]',
  'build:',
  '  script:',
  '    - echo about to fail',
  '    - exit 3',
  '',
].join('\n');

/** A bare repository with one release branch carrying `manifest`. */
export async function releaseRepo(
  name: string,
  version: string,
  manifest: string,
  root?: string,
): Promise<{ repo: TestRepo; branch: string; commit: string }> {
  const repo = await createTestRepo({ root, name });
  const branch = `${name}-${version}`;
  const commit = await repo.pushBranch(branch, { '.kiln.yml': manifest });
  return { repo, branch, commit };
}

export interface TestAgentOptions {
  db: { url: string };
  amqpUrl: string;
  agentId: string;
  concurrency?: number;
  lease?: string;
  grace?: string;
  smtpUrl?: string;
  logger?: Logger;
  /** More KILN_* variables. */
  env?: Record<string, string>;
}

/** A real agent in this process: the composition root `kiln agent` uses, with its own folders. */
export async function startTestAgent(
  options: TestAgentOptions,
): Promise<RunningAgent & { dirs: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dirs = await mkdtemp(path.join(os.tmpdir(), `kiln-agent-${options.agentId}-`));
  const env = agentEnv({ ...options, dirs });
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger({ level: process.env.KILN_TEST_LOG ?? 'silent', pretty: false });
  const engine = createDockerEngine({ ...engineOptionsFromConfig(config), logger });
  const agent = await startAgent(config, { logger, engine, concurrency: options.concurrency ?? 1, env });
  return {
    ...agent,
    dirs,
    async [Symbol.asyncDispose]() {
      await agent.stop();
      await rm(dirs, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

export function agentEnv(options: TestAgentOptions & { dirs: string }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.homedir(),
    KILN_DATABASE_URL: options.db.url,
    KILN_AMQP_URL: options.amqpUrl,
    KILN_SMTP_URL: options.smtpUrl ?? 'smtp://127.0.0.1:9',
    KILN_AGENT_ID: options.agentId,
    KILN_CONCURRENCY: String(options.concurrency ?? 1),
    KILN_METRICS_PORT: '0',
    KILN_LEASE: options.lease ?? '45s',
    KILN_SHUTDOWN_GRACE: options.grace ?? '60s',
    KILN_WORK_DIR: path.join(options.dirs, 'work'),
    KILN_CACHE_DIR: path.join(options.dirs, 'cache'),
    KILN_ARTIFACT_DIR: path.join(options.dirs, 'artifacts'),
    KILN_MEMORY_LIMIT: '256m',
    KILN_NETWORK: 'none',
    KILN_LOG_LEVEL: process.env.KILN_TEST_LOG ?? 'info',
    ...options.env,
  };
}

/** Publishes a message body as a person or the crawler would (persistent, confirmed). */
export async function publishJob(
  url: string,
  body: string | Record<string, unknown>,
  properties: { messageId?: string } = {},
): Promise<void> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createConfirmChannel();
    await declareBuildQueue(channel, { queue: 'build_queue', deliveryLimit: 5 });
    // A quorum queue declared a moment ago by another connection (the agent
    // starting) may nack until its leader is elected: publish again, as the
    // crawler's relay does.
    for (let attempt = 1; ; attempt++) {
      try {
        channel.sendToQueue('build_queue', Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), {
          persistent: true,
          contentType: 'application/json',
          ...properties,
        });
        await channel.waitForConfirms();
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Takes every message from the dead-letter queue, with its headers. */
export async function takeDeadLetters(url: string): Promise<Array<{ body: string; headers: Record<string, unknown> }>> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createChannel();
    const taken: Array<{ body: string; headers: Record<string, unknown> }> = [];
    for (;;) {
      const msg = await channel.get(deadLetterQueueName('build_queue'), { noAck: true });
      if (!msg) return taken;
      taken.push({
        body: msg.content.toString('utf8'),
        headers: (msg.properties.headers ?? {}) as Record<string, unknown>,
      });
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export interface BuildRow {
  id: string;
  status: string;
  attempt: number;
  agent: string | null;
  error: string | null;
  branch: string | null;
  commit: string | null;
  package_name: string | null;
  package_version: string | null;
  failed_stage: string | null;
  failed_command: string | null;
  exit_code: number | null;
}

export async function builds(pool: Pool, where = 'true', values: unknown[] = []): Promise<BuildRow[]> {
  const { rows } = await pool.query<BuildRow>(
    `SELECT id::text AS id, status, attempt, agent, error, branch, commit, package_name, package_version, failed_stage, failed_command, exit_code
       FROM builds WHERE ${where} ORDER BY queued_at`,
    values,
  );
  return rows;
}

/** waitFor with the agent suites' patience (builds take seconds). */
export function waitUntil<T>(
  check: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  return waitFor(check, what, timeoutMs, 100);
}

/** Containers (running or not) labelled with this build id. */
export async function containersOf(buildId: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-a', '-q', '--filter', `label=kiln.build-id=${buildId}`]);
  return stdout.split('\n').filter(Boolean);
}

/** The queue the host's builds are taken from (the agents' routers feed it from build_queue). */
export const HOST_ARCH_QUEUE = `build_queue.${debianHostArch()}`;

/**
 * Messages *ready* in a queue now (default: the host arch's, where a routed
 * build's message waits): the broker's exact count (AMQP),
 * blind to messages a consumer holds unacknowledged. Use it for "back in the
 * queue" (requeued, or returned when a dead consumer's connection closed);
 * "acknowledged" is `waitForAcked`.
 */
export async function readyMessages(url: string, queue = HOST_ARCH_QUEUE): Promise<number> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    return messageCount;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Waits until the broker has counted at least `acked` acknowledgements on the
 * queues (default: the host arch's, where builds are acked; build_queue is
 * where routers ack), summed, and holds nothing there, ready or
 * unacknowledged: every job taken was acked, none is still held by a worker.
 * Returns the summed counts.
 */
export function waitForAcked(
  broker: { queueStats(queue?: string): Promise<QueueStats | null> },
  acked: number,
  what = `${acked} acknowledgement(s) and an empty queue`,
  timeoutMs = 60_000,
  queues: readonly string[] = [HOST_ARCH_QUEUE],
): Promise<QueueStats> {
  return waitUntil(
    async () => {
      const all = await Promise.all(queues.map((q) => broker.queueStats(q).catch(() => null)));
      if (all.some((s) => s === null)) return false;
      const stats = (all as QueueStats[]).reduce((sum, s) => ({
        ready: sum.ready + s.ready,
        unacked: sum.unacked + s.unacked,
        acked: sum.acked + s.acked,
        delivered: sum.delivered + s.delivered,
      }));
      return stats.acked >= acked && stats.ready + stats.unacked === 0 && stats;
    },
    what,
    timeoutMs,
  );
}
