/**
 * One poll cycle of the crawler over many repositories, against plain
 * `git ls-remote --heads` over the same repositories at the same concurrency,
 * measured in the same run. Real PostgreSQL (a database of its own), real
 * RabbitMQ (a vhost of its own), real git.
 *
 *   npx tsx bench/crawler-poll.ts        BENCH_REPOS=1000 BENCH_BRANCHES=100 BENCH_CONCURRENCY=8
 *
 * Goal: a steady-state cycle within 1.2x of plain ls-remote, and under 200 MB.
 */
import { execFile, spawn } from 'node:child_process';
import { access, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '@kiln/shared';
import { countUnpublished, Limiter, startCrawler } from '@kiln/crawler';
import { createTestDatabase, createTestVhost } from '../test/helpers/index.js';

const run = promisify(execFile);
const REPOS = Number(process.env.BENCH_REPOS ?? 1000);
const BRANCHES = Number(process.env.BENCH_BRANCHES ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROOT = process.env.BENCH_ROOT ?? `/tmp/kiln-bench-repos-${REPOS}x${BRANCHES}`;

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** One bare repository made with fast-import (packed refs), then copied: seconds, not minutes. Reused between runs. */
async function fixture(): Promise<void> {
  const marker = path.join(ROOT, '.complete');
  if (await exists(marker)) return;
  const template = path.join(ROOT, '.template.git');
  await mkdir(template, { recursive: true });
  await run('git', ['init', '--bare', '--quiet', template]);
  let stream = '';
  for (let i = 0; i < BRANCHES; i++) {
    const message = `release ${i}\n`;
    stream += `commit refs/heads/bench-1.${i}\ncommitter Bench <bench@example.org> ${1_700_000_000 + i} +0000\ndata ${message.length}\n${message}\n`;
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['fast-import', '--quiet'], { cwd: template, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import exited ${code}`))));
    child.stdin.end(stream);
  });
  await run('git', ['pack-refs', '--all', '--prune'], { cwd: template });
  const copy = new Limiter(8);
  await Promise.all(
    Array.from({ length: REPOS }, (_, i) =>
      copy.run(() => run('cp', ['-a', template, path.join(ROOT, `repo-${String(i).padStart(5, '0')}.git`)])),
    ),
  );
  await writeFile(marker, `${REPOS}x${BRANCHES}\n`);
}

/** The baseline: nothing but `git ls-remote --heads` over every repository, C at a time. */
async function plainLsRemote(repos: string[]): Promise<number> {
  const limiter = new Limiter(CONCURRENCY);
  const started = performance.now();
  await Promise.all(repos.map((r) => limiter.run(() => run('git', ['ls-remote', '--heads', '--', r], { maxBuffer: 64 * 1024 * 1024 }))));
  return performance.now() - started;
}

function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  let t = performance.now();
  await fixture();
  const repos = (await readdir(ROOT)).filter((n) => n.endsWith('.git') && !n.startsWith('.')).map((n) => path.join(ROOT, n));
  console.log(`fixture: ${repos.length} bare repositories x ${BRANCHES} branches under ${ROOT} (${s(performance.now() - t)})`);
  console.log(`concurrency: ${CONCURRENCY}, cores: ${(await import('node:os')).availableParallelism()}`);

  await using db = await createTestDatabase('kiln_bench');
  await using vhost = await createTestVhost('kiln-bench');
  const config = loadConfig({
    KILN_DATABASE_URL: db.url,
    KILN_AMQP_URL: vhost.url,
    KILN_REPO_ROOT: ROOT,
    KILN_POLL_CONCURRENCY: String(CONCURRENCY),
    KILN_POLL_INTERVAL: '3600',
    KILN_GIT_TIMEOUT: '60s',
  });
  const logger = pino({ level: 'warn' });

  // Warm the page cache so neither side pays for the first read.
  await plainLsRemote(repos);

  const baseRss = process.memoryUsage().rss;
  const crawler = await startCrawler(config, logger, { poll: false, serve: false });
  try {
    let sampler = rssSampler();
    t = performance.now();
    const first = await crawler.crawler.pollOnce();
    const firstMs = performance.now() - t;
    const firstPeak = sampler.stop();
    t = performance.now();
    sampler = rssSampler();
    // Drain, and wait for the background relay's batch in flight too.
    await crawler.relay.drain();
    while ((await countUnpublished(db.pool)) > 0) await new Promise((r) => setTimeout(r, 20));
    const published = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM job_outbox WHERE published_at IS NOT NULL')).rows[0]?.n;
    const publishMs = performance.now() - t;
    const publishPeak = sampler.stop();
    console.log(`first cycle (every head new): ${s(firstMs)}, ${first.builds} builds recorded; publishing them: ${s(publishMs)} (${published} confirmed)`);

    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    const plain: number[] = [];
    const steady: number[] = [];
    let steadyPeak = 0;
    for (let i = 0; i < rounds; i++) {
      plain.push(await plainLsRemote(repos));
      sampler = rssSampler();
      t = performance.now();
      const stats = await crawler.crawler.pollOnce();
      steady.push(performance.now() - t);
      steadyPeak = Math.max(steadyPeak, sampler.stop());
      if (stats.builds !== 0 || stats.failed !== 0) throw new Error(`steady cycle was not steady: ${JSON.stringify(stats)}`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const p = median(plain);
    const c = median(steady);
    console.log(`plain git ls-remote --heads, ${repos.length} repos: ${plain.map(s).join(', ')} (median ${s(p)})`);
    console.log(`crawler steady-state cycle:                ${steady.map(s).join(', ')} (median ${s(c)})`);
    console.log(`ratio crawler / plain: ${(c / p).toFixed(2)}x (goal <= 1.2x); first cycle ${(firstMs / p).toFixed(2)}x`);
    console.log(
      `peak RSS of this process: before crawler ${mb(baseRss)}, first cycle ${mb(firstPeak)}, publishing ${mb(publishPeak)}, steady cycles ${mb(steadyPeak)}; maxRSS ${mb(process.resourceUsage().maxRSS * 1024)} (goal < 200 MB)`,
    );
  } finally {
    await crawler.close();
  }

  // The crawler as its own process (`kiln crawler --once`, from sources via tsx): a cold
  // cycle over known heads (it reloads them from the database), peak RSS by the kernel.
  const once = await run('/usr/bin/time', ['-f', '%e %M', process.execPath, '--import', 'tsx', 'src/cli/run.ts', 'crawler', '--once', '--json'], {
    env: { ...process.env, KILN_DATABASE_URL: db.url, KILN_AMQP_URL: vhost.url, KILN_REPO_ROOT: ROOT, KILN_POLL_CONCURRENCY: String(CONCURRENCY), KILN_LOG_LEVEL: 'warn' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const [wall, maxKb] = once.stderr.trim().split('\n').pop()?.split(' ') ?? [];
  const cycle = JSON.parse(once.stdout) as { durationMs: number; builds: number };
  console.log(
    `kiln crawler --once (separate process, heads loaded from the database): cycle ${s(cycle.durationMs)}, ${cycle.builds} builds, process wall ${wall} s, peak RSS ${mb(Number(maxKb) * 1024)}`,
  );
}

await main();
