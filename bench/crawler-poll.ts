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
import { Limiter } from '@kiln/crawler';
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

/**
 * The baseline: nothing but `git ls-remote --heads` over every repository, C
 * at a time, from a plain node process of its own like the crawler's (fork
 * cost grows with the parent's memory, so both sides spawn from a small one).
 */
const BASELINE = `
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const repos = JSON.parse(process.env.BENCH_REPO_LIST);
const C = Number(process.env.KILN_POLL_CONCURRENCY);
const lsRemote = (r) => new Promise((resolve, reject) =>
  execFile('git', ['ls-remote', '--heads', '--', r], { maxBuffer: 64 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve())));
const kb = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const say = (o) => process.stdout.write(JSON.stringify({ ...o, rss: kb('VmRSS'), peak: kb('VmHWM') }) + '\\n');
say({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'cycle') break;
  const t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: C }, async () => { while (next < repos.length) await lsRemote(repos[next++]); }));
  say({ ms: performance.now() - t });
}
`;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * The crawler runs in a process of its own, on plain node over the compiled
 * packages (no tsx, no benchmark harness in its memory), and runs one cycle
 * each time it is told to, so the baseline and the crawler alternate.
 */
const CHILD = `
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createPool, loadConfig } from '@kiln/shared';
import { countUnpublished, startCrawler } from '@kiln/crawler';
const config = loadConfig(process.env);
const crawler = await startCrawler(config, pino({ level: 'warn' }), { poll: false, serve: false });
const pool = createPool(config.KILN_DATABASE_URL, { max: 1 });
const kb = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const say = (o) => process.stdout.write(JSON.stringify({ ...o, rss: kb('VmRSS'), peak: kb('VmHWM') }) + '\\n');
say({ ready: true });
for await (const line of createInterface({ input: process.stdin })) {
  const t = performance.now();
  if (line === 'cycle') say({ stats: await crawler.crawler.pollOnce(), ms: performance.now() - t });
  if (line === 'publish') {
    await crawler.relay.drain();
    while ((await countUnpublished(pool)) > 0) await new Promise((r) => setTimeout(r, 20));
    say({ ms: performance.now() - t });
  }
  if (line === 'quit') break;
}
await crawler.close();
await pool.end();
`;

interface ChildReport {
  rss: number;
  peak: number;
  ms: number;
  stats?: { builds: number; failed: number; checked: number };
}

function benchProcess(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const replies: Array<(r: ChildReport) => void> = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      replies.shift()?.(JSON.parse(line) as ChildReport);
    }
  });
  const next = () => new Promise<ChildReport>((resolve) => replies.push(resolve));
  const ready = next();
  return {
    ready,
    ask(command: 'cycle' | 'publish'): Promise<ChildReport> {
      const reply = next();
      child.stdin.write(`${command}\n`);
      return reply;
    },
    async quit(): Promise<void> {
      child.stdin.end('quit\n');
      await new Promise((r) => child.on('exit', r));
    },
  };
}

async function main(): Promise<void> {
  const t = performance.now();
  await fixture();
  const repos = (await readdir(ROOT))
    .filter((n) => n.endsWith('.git') && !n.startsWith('.'))
    .map((n) => path.join(ROOT, n));
  console.log(
    `fixture: ${repos.length} bare repositories x ${BRANCHES} branches under ${ROOT} (${s(performance.now() - t)})`,
  );
  console.log(`concurrency: ${CONCURRENCY}, cores: ${(await import('node:os')).availableParallelism()}`);
  await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/shared', 'packages/crawler']);

  await using db = await createTestDatabase('kiln_bench');
  await using vhost = await createTestVhost('kiln-bench');
  const env = {
    KILN_DATABASE_URL: db.url,
    KILN_AMQP_URL: vhost.url,
    KILN_REPO_ROOT: ROOT,
    KILN_POLL_CONCURRENCY: String(CONCURRENCY),
    KILN_POLL_INTERVAL: '3600',
    KILN_GIT_TIMEOUT: '60s',
  };

  const baseline = benchProcess(BASELINE, { ...env, BENCH_REPO_LIST: JSON.stringify(repos) });
  await baseline.ready;
  // Warm the page cache so neither side pays for the first read.
  await baseline.ask('cycle');

  const crawler = benchProcess(CHILD, env);
  const idle = await crawler.ready;
  const first = await crawler.ask('cycle');
  const published = await crawler.ask('publish');
  console.log(
    `first cycle (every head new): ${s(first.ms)}, ${first.stats?.builds} builds recorded; publishing them: ${s(published.ms)}; crawler peak RSS so far ${mb(published.peak)} (idle ${mb(idle.rss)})`,
  );

  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const plain: number[] = [];
  const steady: ChildReport[] = [];
  for (let i = 0; i < rounds; i++) {
    plain.push((await baseline.ask('cycle')).ms);
    const report = await crawler.ask('cycle');
    if (report.stats?.builds !== 0 || report.stats.failed !== 0)
      throw new Error(`steady cycle was not steady: ${JSON.stringify(report.stats)}`);
    steady.push(report);
  }
  await crawler.quit();
  await baseline.quit();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const p = median(plain);
  const c = median(steady.map((r) => r.ms));
  console.log(`plain git ls-remote --heads, ${repos.length} repos: ${plain.map(s).join(', ')} (median ${s(p)})`);
  console.log(`crawler steady-state cycle:                ${steady.map((r) => s(r.ms)).join(', ')} (median ${s(c)})`);
  console.log(
    `ratio crawler / plain: ${(c / p).toFixed(2)}x (goal <= 1.2x); first cycle ${(first.ms / p).toFixed(2)}x`,
  );
  console.log(
    `crawler RSS after each steady cycle: ${steady.map((r) => mb(r.rss)).join(', ')}; peak over the whole run (VmHWM) ${mb(steady.at(-1)?.peak ?? NaN)} (goal < 200 MB)`,
  );
}

await main();
