// Jobs per second of a fleet: 1, 2 and 4 agent processes, each on a test host
// of its own (a network namespace reaching RabbitMQ and PostgreSQL through its
// link, see test/helpers/netns.ts), on trivial jobs (one stage of `true` on
// kiln/busybox). The ratios are against the 1-agent fleet measured in the same
// run.
//
//   npx tsx bench/fleet-throughput.ts   BENCH_JOBS=40 BENCH_CONCURRENCY=1 BENCH_FLEETS=1,2,4 BENCH_CLUSTER_AGENTS=2
//
// Then the BENCH_CLUSTER_AGENTS fleet again against a 3-node RabbitMQ cluster
// (test/helpers/own-rabbitmq.ts; build_queue a quorum queue on all three,
// agents spread over the nodes), printed against the same fleet on one node.
//
// Needs root (network namespaces), Docker, and RabbitMQ and PostgreSQL 15
// installed: it starts a RabbitMQ node and a PostgreSQL cluster of its own.
// Each fleet gets a fresh queue (a vhost is not needed: the queue is purged
// and the builds table emptied between fleets), waits until every agent says
// "agent started", then BENCH_JOBS jobs are published at once and timed from
// the publish to the last result committed.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPool, type Pool } from '@kiln/shared';
import { agentEnv } from '../test/helpers/agent-fixtures.js';
import { makeRepo } from '../test/helpers/chaos/workload.js';
import { spawnCli, startOwnRabbit, type CliProcess } from '../test/helpers/crawler-fixtures.js';
import { git } from '../test/helpers/git.js';
import { createTestNetwork, type TestHost } from '../test/helpers/netns.js';
import { startOwnPostgres } from '../test/helpers/own-postgres.js';
import { startOwnRabbitCluster } from '../test/helpers/own-rabbitmq.js';
import { waitFor } from '../test/helpers/wait.js';
import { publishJobs } from './lib/publish-jobs.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 40);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const FLEETS = (process.env.BENCH_FLEETS ?? '1,2,4').split(',').map(Number);
/** The fleet size run again against a 3-node cluster (0: not). */
const CLUSTER_AGENTS = Number(process.env.BENCH_CLUSTER_AGENTS ?? 2);

async function finished(pool: Pool, ids: string[]): Promise<number> {
  const { rows } = await pool.query<{ done: number; bad: number }>(
    `SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'errored', 'cancelled'))::int AS done,
            count(*) FILTER (WHERE status <> 'succeeded' AND status IN ('failed', 'errored', 'cancelled'))::int AS bad
       FROM builds WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  const { done = 0, bad = 0 } = rows[0] ?? {};
  if (bad > 0) throw new Error(`${bad} benchmark builds did not succeed`);
  return done;
}

const root = await mkdtemp(path.join(os.tmpdir(), 'kiln-fleet-'));
const net = await createTestNetwork();
const pg = await startOwnPostgres({ listen: { address: net.serviceAddress, allow: net.cidr } });
const rabbit = await startOwnRabbit({ remote: true });
const pool = createPool(pg.url, { max: 2 });
const hosts: TestHost[] = [];
for (let i = 1; i <= Math.max(...FLEETS); i++) hosts.push(await net.addHost(`bench-${i}`));
const repo = await makeRepo(root, 'trivial');
const job = (id: string) => ({
  id,
  repo: repo.bare,
  branch: 'trivial-1.0',
  commit: repo.main,
  package: { name: 'trivial', version: '1.0' },
  trigger: 'cli',
  requestedAt: new Date().toISOString(),
});
await git(repo.bare, 'update-ref', 'refs/heads/trivial-1.0', repo.main);

interface Broker {
  /** Where this machine publishes. */
  url: string;
  /** The URL agent `i` is given. */
  agentUrl(i: number): string;
}

const oneNode: Broker = {
  url: rabbit.url,
  agentUrl: () => `${rabbit.url.replace('127.0.0.1', net.serviceAddress)}?heartbeat=10`,
};

async function fleet(size: number, broker: Broker): Promise<number> {
  const agents: CliProcess[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const dirs = await mkdtemp(path.join(root, `agent-${size}-${i}-`));
      const env = agentEnv({
        db: { url: pg.remoteUrl },
        amqpUrl: broker.agentUrl(i),
        agentId: `bench-${size}-${i}`,
        concurrency: CONCURRENCY,
        dirs,
      });
      agents.push(spawnCli(['agent'], env, hosts[i]!));
    }
    await waitFor(
      () => agents.every((a) => a.lines.some((l) => l.msg === 'agent started')),
      'the agents to start',
      180_000,
      200,
    );
    // One warm-up job per agent (checkout cache, first container), not timed.
    const warm = agents.map(() => randomUUID());
    await publishJobs(broker.url, warm.map(job));
    await waitFor(async () => (await finished(pool, warm)) === warm.length, 'the warm-up', 300_000, 200);
    const ids = Array.from({ length: JOBS }, () => randomUUID());
    const started = Date.now();
    await publishJobs(broker.url, ids.map(job));
    await waitFor(async () => (await finished(pool, ids)) === ids.length, 'the jobs', 900_000, 100);
    const { rows } = await pool.query<{ last: Date }>(
      'SELECT max(finished_at) AS last FROM builds WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return JOBS / ((rows[0]!.last.getTime() - started) / 1000);
  } finally {
    for (const a of agents) a.child.kill('SIGTERM');
    await Promise.all(agents.map((a) => a.exited));
  }
}

try {
  const results: Array<{ agents: number; broker: string; jobsPerSecond: number }> = [];
  for (const size of FLEETS) {
    const jobsPerSecond = await fleet(size, oneNode);
    results.push({ agents: size, broker: 'one node', jobsPerSecond });
    process.stdout.write(`${size} agent(s), one node: ${jobsPerSecond.toFixed(2)} jobs/s\n`);
  }
  if (CLUSTER_AGENTS > 0) {
    // The same fleet against a 3-node cluster: build_queue a quorum queue on all three, agent i on node i mod 3.
    await using cluster = await startOwnRabbitCluster(3, { listen: '0.0.0.0' });
    const three: Broker = {
      url: cluster.nodes[0]!.url,
      agentUrl: (i) => `${cluster.nodes[i % 3]!.urlVia(net.serviceAddress)}?heartbeat=10`,
    };
    const jobsPerSecond = await fleet(CLUSTER_AGENTS, three);
    results.push({ agents: CLUSTER_AGENTS, broker: '3-node cluster', jobsPerSecond });
    process.stdout.write(`${CLUSTER_AGENTS} agent(s), 3-node cluster: ${jobsPerSecond.toFixed(2)} jobs/s\n`);
  }
  const base = results.find((r) => r.agents === 1) ?? results[0]!;
  const sameFleet = results.find((r) => r.agents === CLUSTER_AGENTS && r.broker === 'one node');
  process.stdout.write(
    `\nfleet throughput, ${JOBS} trivial jobs, ${CONCURRENCY} worker(s) per agent, ${os.availableParallelism()} cores\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `  ${String(r.agents).padStart(2)} agent(s)  ${r.broker.padEnd(14)}  ${r.jobsPerSecond.toFixed(2).padStart(6)} jobs/s  ${(r.jobsPerSecond / base.jobsPerSecond).toFixed(2)}x of 1 agent\n`,
    );
  }
  const clustered = results.find((r) => r.broker === '3-node cluster');
  if (clustered && sameFleet)
    process.stdout.write(
      `  3-node cluster / one node, ${CLUSTER_AGENTS} agent(s): ${(clustered.jobsPerSecond / sameFleet.jobsPerSecond).toFixed(2)}x\n`,
    );
} finally {
  await pool.end();
  await rabbit[Symbol.asyncDispose]();
  await pg[Symbol.asyncDispose]();
  await net.close();
  await rm(root, { recursive: true, force: true });
}
