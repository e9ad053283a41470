// Jobs per second through a real agent (RabbitMQ, PostgreSQL, git, Docker)
// against the same containers run by plain `docker run --rm`, measured in the
// same run.
//
//   npx tsx bench/job-throughput.ts            BENCH_JOBS=20 BENCH_ROUNDS=3
//
// Each job is a release branch of a local repository whose manifest has two
// stages of `true` on kiln/busybox. BENCH_JOBS jobs are queued at once and an
// agent with 2 workers builds them; the baseline runs the same two containers
// per job with `docker run --rm`, two jobs at a time. Kiln does more per job
// (claim, checkout, manifest, records, events, log), so the goal, >= 1.0x of
// the baseline's jobs per second, asks that all of it cost no more than the
// `docker` CLI's own overhead. Also printed: publish-to-start latency (the
// job's request to its claim) and where the time of an average job went.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from '@kiln/shared';
import { createTestDatabase } from '../test/helpers/database.js';
import { createTestVhost } from '../test/helpers/broker.js';
import { releaseRepo, startTestAgent } from '../test/helpers/agent-fixtures.js';
import { publishJobs } from './lib/publish-jobs.js';

const IMAGE = 'kiln/busybox:latest';
const JOBS = Number(process.env.BENCH_JOBS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKERS = 2;
const MANIFEST = `image: ${IMAGE}\nstages: [one, two]\none: {script: ["true"]}\ntwo: {script: ["true"]}\n`;

function dockerRun(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', '--rm', IMAGE, 'true'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker run exited ${code}`))));
  });
}

/** The same containers as the jobs' stages: two per job, one after the other, two jobs at a time. */
async function plainRound(): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < JOBS) {
      next++;
      await dockerRun();
      await dockerRun();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: WORKERS }, lane));
  return (performance.now() - started) / 1000;
}

async function waitForBuilds(pool: Pool, ids: string[]): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const { rows } = await pool.query<{ done: number; bad: number }>(
      `SELECT count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'errored', 'cancelled'))::int AS done,
              count(*) FILTER (WHERE status IN ('failed', 'errored', 'cancelled'))::int AS bad
         FROM builds WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const { done = 0, bad = 0 } = rows[0] ?? {};
    if (bad > 0) throw new Error(`${bad} benchmark builds did not succeed`);
    if (done === ids.length) return;
    if (Date.now() > deadline) throw new Error(`only ${done} of ${ids.length} builds finished in 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface KilnRound {
  seconds: number;
  /** Request to claim, per job (ms). */
  latencies: number[];
  ids: string[];
}

async function kilnRound(
  pool: Pool,
  url: string,
  repo: { bare: string; branch: string; commit: string },
  count: number,
): Promise<KilnRound> {
  const requestedAt = new Date();
  const jobs = Array.from({ length: count }, () => ({
    id: randomUUID(),
    repo: repo.bare,
    branch: repo.branch,
    commit: repo.commit,
    package: { name: 'trivial', version: '1.0' },
    trigger: 'cli',
    requestedAt: requestedAt.toISOString(),
  }));
  const ids = jobs.map((j) => j.id);
  const startedAt = Date.now();
  await publishJobs(url, jobs);
  await waitForBuilds(pool, ids);
  const { rows } = await pool.query<{ latency: number; finished: Date }>(
    `SELECT (extract(epoch FROM started_at - $2::timestamptz) * 1000)::float8 AS latency, finished_at AS finished
       FROM builds WHERE id = ANY($1::uuid[])`,
    [ids, requestedAt.toISOString()],
  );
  // The last result committed, by the database's clock (same host), against the first publish.
  const lastFinished = Math.max(...rows.map((r) => r.finished.getTime()));
  return { seconds: (lastFinished - startedAt) / 1000, latencies: rows.map((r) => r.latency), ids };
}

/** The average job's phases (ms), from build_phases. */
async function phaseMeans(pool: Pool, ids: string[]): Promise<Array<{ phase: string; ms: number }>> {
  const { rows } = await pool.query<{ phase: string; ms: number }>(
    `SELECT CASE WHEN phase = 'stage' THEN 'stage ' || stage ELSE phase END AS phase,
            (sum(duration_ms)::float8 / $2) AS ms, min(position) AS first
       FROM build_phases WHERE build_id = ANY($1::uuid[])
      GROUP BY 1 ORDER BY first`,
    [ids, ids.length],
  );
  return rows;
}

const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const median = (xs: number[]) => quantile(xs, 0.5);

await using db = await createTestDatabase('kiln_bench');
await using vhost = await createTestVhost('kiln-bench');
const root = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-'));
try {
  const { repo, branch, commit } = await releaseRepo('trivial', '1.0', MANIFEST, root);
  await using agent = await startTestAgent({
    db,
    amqpUrl: vhost.url,
    agentId: 'bench',
    concurrency: WORKERS,
    env: { KILN_LOG_LEVEL: 'warn' },
  });
  void agent;
  const source = { bare: repo.bare, branch, commit };
  // Warm-up: the mirror cloned, the image in the page cache, first-call costs paid on both sides.
  await dockerRun();
  await kilnRound(db.pool, vhost.url, source, WORKERS);

  // Publish-to-start on an idle agent: one job at a time, so no queueing behind other jobs.
  const idle: number[] = [];
  for (let i = 0; i < 10; i++) idle.push(...(await kilnRound(db.pool, vhost.url, source, 1)).latencies);

  const plain: number[] = [];
  const kiln: KilnRound[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    plain.push(await plainRound());
    kiln.push(await kilnRound(db.pool, vhost.url, source, JOBS));
  }
  const rate = (seconds: number) => JOBS / seconds;
  const ratios = kiln.map((k, i) => rate(k.seconds) / rate(plain[i]!));
  const latencies = kiln.flatMap((k) => k.latencies);
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(`${JOBS} two-stage jobs (\`true\` on ${IMAGE}), ${WORKERS} workers, ${ROUNDS} rounds`);
  console.log(
    `  docker run --rm, 2 at a time: ${plain.map((s) => f(rate(s))).join(' / ')} jobs/s (median ${f(rate(median(plain)))})`,
  );
  console.log(
    `  kiln agent, 2 workers:        ${kiln.map((k) => f(rate(k.seconds))).join(' / ')} jobs/s (median ${f(rate(median(kiln.map((k) => k.seconds))))})`,
  );
  console.log(
    `  ratio kiln / docker run (jobs/s): ${ratios.map((r) => `${f(r)}x`).join(' / ')}; median ${f(median(ratios))}x (goal >= 1.0x)`,
  );
  console.log(
    `  publish-to-start latency (request to claim), idle agent, ${idle.length} jobs: p50 ${f(quantile(idle, 0.5), 0)} ms, p95 ${f(quantile(idle, 0.95), 0)} ms`,
  );
  console.log(
    `  the same with ${JOBS} jobs queued at once (${latencies.length} jobs): p50 ${f(quantile(latencies, 0.5), 0)} ms, p95 ${f(quantile(latencies, 0.95), 0)} ms`,
  );
  console.log('  an average job of the last round, phase by phase (phases overlap; queue wait included):');
  for (const p of await phaseMeans(db.pool, kiln.at(-1)!.ids))
    console.log(`    ${p.phase.padEnd(14)} ${f(p.ms, 0)} ms`);
} finally {
  await rm(root, { recursive: true, force: true });
}
