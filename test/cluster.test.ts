/**
 * Kiln on a 3-node RabbitMQ cluster of the test's own: build_queue a quorum
 * queue on all three nodes, real `kiln agent` processes, `kiln submit`
 * processes and a kiln server, all given the three URLs. The node that leads
 * build_queue is stopped while builds run and jobs wait; every job is built
 * exactly once (one build row, one package or one email each), every client
 * fails over to another node, and kiln server's /metrics shows the queue,
 * the oldest waiting job and each agent's busy workers along the way.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectAmqp, deadLetterQueueName, debianHostArch, declareBuildQueue } from '@kiln/shared';
import { agentEnv, builds, helloManifest, releaseRepo, waitUntil } from './helpers/agent-fixtures.js';
import { kilnCommand } from './helpers/cli.js';
import { spawnCli, type CliProcess } from './helpers/crawler-fixtures.js';
import {
  createSmtpSink,
  createTestDatabase,
  type SmtpSink,
  type TestDatabase,
  type TestRepo,
  metricSamples,
  metricTotal,
} from './helpers/index.js';
import { startOwnRabbitCluster, type OwnRabbitCluster, type OwnRabbitNode } from './helpers/own-rabbitmq.js';
import { startTestServer } from './helpers/server-fixtures.js';

jest.setTimeout(420_000);
const run = promisify(execFile);

const FAILING = (maintainer: string) =>
  [
    'image: kiln/busybox:latest',
    'package:',
    `  maintainer: ${maintainer}`,
    'stages: [build]',
    'build:',
    '  script:',
    '    - sleep 2',
    '    - exit 3',
    '',
  ].join('\n');

describe('a 3-node RabbitMQ cluster whose build_queue leader stops mid-run', () => {
  let cluster: OwnRabbitCluster;
  let db: TestDatabase;
  let smtp: SmtpSink;
  let root: string;
  let leader: OwnRabbitNode;
  let urls: string;
  const agents: CliProcess[] = [];
  const repos: TestRepo[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-cluster-'));
    [cluster, db, smtp] = await Promise.all([
      startOwnRabbitCluster(3),
      createTestDatabase('kiln_cluster'),
      createSmtpSink(),
    ]);
    // Declared once all three nodes run, as an operator's first client would.
    const connection = await connectAmqp(cluster.url);
    const channel = await connection.createChannel();
    await declareBuildQueue(channel, { queue: 'build_queue', deliveryLimit: 5 });
    await connection.close();
    leader = (await cluster.quorumQueue('build_queue')).leader;
    // The leader's node first: every client starts on the node that will be stopped.
    urls = [leader, ...cluster.nodes.filter((n) => n !== leader)].map((n) => n.url).join(',');
  });
  afterAll(async () => {
    for (const agent of agents) if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.exited));
    for (const repo of repos) await repo[Symbol.asyncDispose]();
    await Promise.all([cluster?.[Symbol.asyncDispose](), db?.[Symbol.asyncDispose](), smtp?.[Symbol.asyncDispose]()]);
    await rm(root, { recursive: true, force: true });
  });

  test('build_queue and its dead-letter queue are quorum queues on all three nodes', async () => {
    for (const queue of ['build_queue', deadLetterQueueName('build_queue')]) {
      const { members } = await cluster.quorumQueue(queue);
      expect(members.map((m) => m.name).sort()).toEqual(cluster.nodes.map((n) => n.name).sort());
    }
  });

  test('no job lost or doubled, every client fails over, /metrics follows the fleet', async () => {
    const env = { KILN_DATABASE_URL: db.url, KILN_AMQP_URL: urls, KILN_LOG_LEVEL: 'info' };
    await using server = await startTestServer({ db, amqpUrl: urls });
    for (const id of ['agent-a', 'agent-b']) {
      const dirs = await mkdtemp(path.join(root, `${id}-`));
      const agent = spawnCli(
        ['agent'],
        // The host's arch only: one per-arch quorum queue, not one per registered emulator.
        {
          ...agentEnv({ db, amqpUrl: urls, agentId: id, concurrency: 2, smtpUrl: smtp.url, dirs, lease: '20s' }),
          KILN_ARCHS: debianHostArch(),
        },
      );
      agents.push(agent);
      await agent.waitForLog((l) => l.msg === 'agent started', `${id} to start`, 60_000);
    }
    const submit = async (name: string, manifest: string): Promise<{ id: string; published: boolean }> => {
      const { repo, branch } = await releaseRepo(name, '1.0', manifest, root);
      repos.push(repo);
      const { stdout } = await run(...kilnCommand('submit', repo.bare, branch, '--json'), { env });
      return JSON.parse(stdout) as { id: string; published: boolean };
    };
    const expected = new Map<string, 'succeeded' | 'failed'>();
    // Six jobs at once for four workers: two wait in the queue while four build.
    const first = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) =>
        submit(`pkg${i}`, i === 3 ? FAILING(`Owner 3 <owner3@example.org>`) : helloManifest({ sleepSeconds: 15 })),
      ),
    );
    first.forEach((job, i) => {
      expect(job.published).toBe(true);
      expected.set(job.id, i === 2 ? 'failed' : 'succeeded');
    });

    const metricsText = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();
    let last = '';
    const busyAndWaiting = await waitUntil(
      async () => {
        const text = (last = await metricsText());
        return (
          metricTotal(text, 'kiln_agent_workers_busy') >= 2 &&
          metricTotal(text, 'kiln_queue_messages') >= 1 &&
          metricTotal(text, 'kiln_queue_oldest_job_age_seconds') > 0 &&
          text
        );
      },
      'metrics showing busy workers and waiting jobs',
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last /metrics:\n${last}`, { cause: err });
    });
    expect(
      metricSamples(busyAndWaiting, 'kiln_agent_workers').map((s) => [s.labels.match(/agent="([^"]+)"/)?.[1], s.value]),
    ).toEqual([
      ['agent-a', 2],
      ['agent-b', 2],
    ]);
    expect(metricSamples(busyAndWaiting, 'kiln_queue_messages')[0]?.labels).toContain('queue="build_queue"');
    expect(metricTotal(busyAndWaiting, 'kiln_agents')).toBe(2);
    expect(metricTotal(busyAndWaiting, 'kiln_broker_up')).toBe(1);

    // Stop the leader while builds run and jobs wait.
    const running = await builds(db.pool, "status = 'running'");
    expect(running.length).toBeGreaterThanOrEqual(1);
    await leader.stop();
    expect((await cluster.quorumQueue('build_queue')).leader).not.toBe(leader);

    // Submitted after the stop: the first URL is the stopped node; kiln submit goes to the next.
    for (const [name, failing] of [
      ['late-ok', false],
      ['late-fail', true],
    ] as const) {
      const job = await submit(name, failing ? FAILING(`Late <late@example.org>`) : helloManifest());
      expect(job.published).toBe(true);
      expected.set(job.id, failing ? 'failed' : 'succeeded');
    }

    const finished = await waitUntil(
      async () => {
        const rows = await builds(db.pool);
        return rows.length === expected.size && rows.every((r) => ['succeeded', 'failed'].includes(r.status)) && rows;
      },
      'every build finished',
      300_000,
    );
    // One build row per job, with the expected result.
    expect(new Map(finished.map((r) => [r.id, r.status]))).toEqual(expected);
    const succeeded = [...expected.values()].filter((s) => s === 'succeeded').length;
    const packages = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM packages');
    expect(Number(packages.rows[0]!.n)).toBe(succeeded);
    // One email per failure, no more: wait for them, then a little longer for any duplicate.
    await smtp.waitForMessages(2, 60_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(smtp.messages.map((m) => m.envelopeTo.join()).sort()).toEqual(['late@example.org', 'owner3@example.org']);
    const mails = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM notifications');
    expect(Number(mails.rows[0]!.n)).toBe(2);

    // Nothing left in any queue (counted by a node that still runs), nothing dead-lettered.
    const left = await waitUntil(
      async () => {
        const out = await cluster.ctl(['list_queues', 'name', 'messages', '--formatter', 'json']);
        const rows = JSON.parse(out) as Array<{ name: string; messages: number }>;
        return rows.every((r) => r.messages === 0) && rows;
      },
      'empty queues',
      60_000,
    );
    // (Besides the agents' and server's own exclusive event queues, amq.gen-*.)
    expect(
      left
        .map((r) => r.name)
        .filter((n) => !n.startsWith('amq.gen-'))
        .sort(),
    ).toEqual(['build_queue', `build_queue.${debianHostArch()}`, 'build_queue.dead']);

    // Every agent was on the stopped node and went on through another; no password in any log.
    for (const agent of agents) {
      const lost = agent.lines.findIndex((l) => String(l.msg).startsWith('lost the RabbitMQ connection'));
      expect(lost).toBeGreaterThanOrEqual(0);
      const again = agent.lines
        .slice(lost)
        .find((l) => l.msg === 'connected to RabbitMQ' && (l as { broker?: string }).broker !== undefined);
      expect((again as { broker?: string } | undefined)?.broker).not.toContain(`:${leader.port}`);
      expect(JSON.stringify(agent.lines)).not.toContain('guest:guest');
    }

    // The server's metrics connection failed over too, and the fleet is idle again.
    const idle = await waitUntil(
      async () => {
        const text = await metricsText();
        return metricTotal(text, 'kiln_agent_workers_busy') === 0 && metricTotal(text, 'kiln_broker_up') === 1 && text;
      },
      'idle metrics',
      60_000,
    );
    expect(metricTotal(idle, 'kiln_queue_messages')).toBe(0);
    expect(metricTotal(idle, 'kiln_builds_queued')).toBe(0);
    expect(metricTotal(idle, 'kiln_queue_oldest_job_age_seconds')).toBe(0);
  });
});
