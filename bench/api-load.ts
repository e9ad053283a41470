// kiln server under load: a package database of 100,000 builds and 5,000,000
// file rows (generated in bulk by PostgreSQL), 50 concurrent HTTP clients on
// loopback against the build list, one build, one package version, and search
// by SONAME and by path. Goal: p95 < 50 ms each, server RSS < 200 MB.
//
// The load generator is Debian's `wrk` when installed (C: a tenth of
// autocannon's CPU per request, which matters when client, server and
// PostgreSQL share 2 cores), else autocannon; BENCH_CLIENT=autocannon forces it.
// The server runs as its own process at its default log level (info: one
// line per request, to a file), so its RSS and CPU are its own.
//
// Baseline, in the same run: the same queries called directly (the server's
// own read functions over a pg pool of the server's size, 50 callers at once), so
// the ratio is what HTTP, validation and JSON add. For each route it prints
// the CPU time per request of the server, of the PostgreSQL backends serving
// it, and of the load generator (where the 2 cores go), and the machine's
// load average (other work on the machine shows there). Prints the query
// plans of the searches.
//
// Run: npx tsx bench/api-load.ts   (about 6 minutes on 2 cores; BENCH_SCALE=0.1 for a quick look)
// BENCH_KEEP=1 keeps the filled database and prints its name; BENCH_DATABASE=<name> reuses it.
// BENCH_FARM=<workers> reads while a busy farm writes: that many builds running at once, their lease
// renewals, stage rows and recorded packages (bench/api-load/farm-churn.ts); the answer cache's hit rate
// (from /metrics) is printed per route.
import { execFile, spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createPool } from '@kiln/shared';
import { getBuild, listBuilds } from '../packages/server/src/db/build-queries.js';
import { packageDetails } from '../packages/server/src/db/package-queries.js';
import { searchFiles, searchSql } from '../packages/server/src/db/search-queries.js';
import { ADMIN_URL, createTestDatabase, freePort, metricSamples, metricTotal } from '../test/helpers/index.js';
import { startFarmChurn } from './api-load/farm-churn.js';
import { fillDatabase } from './api-load/fill.js';
import { backendsCpuMs, chooseClient, loadAverage, percentile, processCpuMs, runLoad } from './api-load/load-client.js';

const run = promisify(execFile);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const PACKAGES = Math.round(2_000 * SCALE);
const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const POOL = 20; // the server's pool (packages/server/src/main.ts)
const GOAL_MS = 50;
const FARM = Number(process.env.BENCH_FARM ?? 0);

console.log(`load average at start: ${await loadAverage()} (2 cores)`);
const reuse = process.env.BENCH_DATABASE;
let dbName: string;
let dbUrl: string;
let drop: (() => Promise<void>) | null = null;
if (reuse) {
  dbName = reuse;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${reuse}`;
  dbUrl = url.toString();
  console.log(`reusing ${reuse}`);
} else {
  const created = await createTestDatabase('kiln_bench_api');
  dbName = created.name;
  dbUrl = created.url;
  if (process.env.BENCH_KEEP) console.log(`keeping the database: BENCH_DATABASE=${created.name}`);
  else drop = () => created[Symbol.asyncDispose]();
  await fillDatabase(created.pool, PACKAGES);
  await created.pool.end().catch(() => undefined);
}
const db = createPool(dbUrl, { max: 4, applicationName: 'kiln-bench' });
const counts = await db.query<{ builds: number; files: number }>(
  `SELECT (SELECT count(*)::int FROM builds) AS builds, (SELECT reltuples::bigint::int FROM pg_class WHERE relname = 'package_files') AS files`,
);
console.log(`database: ${counts.rows[0]!.builds} builds, ~${counts.rows[0]!.files} file rows`);

// A sample to draw requests from: real ids and names, so every request reads something different.
const sample = (
  await db.query<{ id: string; name: string; version: string; p: number }>(
    `SELECT b.id::text AS id, p.name, p.version, substr(p.name, 4)::int AS p
       FROM packages p JOIN builds b ON b.id = p.build_id ORDER BY random() LIMIT 2000`,
  )
).rows;
const pick = () => sample[Math.floor(Math.random() * sample.length)]!;
const ARCH = 'amd64';

interface Endpoint {
  name: string;
  path: (s: (typeof sample)[number]) => string;
  direct: (pool: ReturnType<typeof createPool>) => Promise<unknown>;
}
const endpoints: Endpoint[] = [
  {
    name: 'build list (50)',
    path: () => '/api/v1/builds?limit=50',
    direct: (pool) => listBuilds(pool, { limit: 50 }),
  },
  {
    name: 'one build',
    path: (s) => `/api/v1/builds/${s.id}`,
    direct: (pool) => getBuild(pool, pick().id, ARCH),
  },
  {
    name: 'one package version',
    path: (s) => `/api/v1/packages/${s.name}/${s.version}`,
    direct: (pool) => {
      const s = pick();
      return packageDetails(pool, s.name, s.version, ARCH);
    },
  },
  {
    name: 'search by SONAME',
    path: (s) => `/api/v1/search?soname=libpkg${s.p}.so.1`,
    direct: (pool) => searchFiles(pool, 'soname', `libpkg${pick().p}.so.1`),
  },
  {
    name: 'search by path',
    path: (s) => `/api/v1/search?path=/usr/bin/pkg${s.p}-tool2`,
    direct: (pool) => searchFiles(pool, 'path', `/usr/bin/pkg${pick().p}-tool2`),
  },
];

/** The same reads without HTTP: 50 callers at once over a pool as large as the server's. */
async function direct(endpoint: Endpoint): Promise<{ p95: number; rps: number }> {
  const pool = createPool(dbUrl, { max: POOL, applicationName: 'kiln-bench-direct' });
  const times: number[] = [];
  const seconds = SECONDS / 2;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < deadline) {
        const start = performance.now();
        await endpoint.direct(pool);
        times.push(performance.now() - start);
      }
    }),
  );
  await pool.end();
  return { p95: percentile(times, 95), rps: times.length / seconds };
}

// The server as a process of its own (its RSS and CPU are measured), from the compiled packages. Variants, one
// after another on the same database: this tree with its answer cache off (every read goes to PostgreSQL), this
// tree as configured by default, and with BENCH_BEFORE=<dir of another built tree> that tree first (before/after).
await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b']);
const client = await chooseClient(process.env.BENCH_CLIENT);

// The Node options kiln server is started with (scripts/up.sh, docker-compose.yml); BENCH_NODE_FLAGS='' for Node's own.
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=4').split(' ').filter(Boolean);
// Clients with and without gzip: browsers, fetch and kiln's own CLI accept it; curl and wrk by default do not.
const PLAIN = { name: 'plain', headers: {} };
const GZIP = { name: 'gzip', headers: { 'accept-encoding': 'gzip, deflate' } };

interface Variant {
  name: string;
  cwd: string;
  env: Record<string, string>;
  clients: Array<typeof PLAIN>;
}
const allVariants: Variant[] = [
  ...(process.env.BENCH_BEFORE
    ? [{ name: `before (${process.env.BENCH_BEFORE})`, cwd: process.env.BENCH_BEFORE, env: {}, clients: [PLAIN] }]
    : []),
  { name: 'this tree, answer cache off', cwd: process.cwd(), env: { KILN_HTTP_CACHE_MB: '0' }, clients: [PLAIN] },
  { name: 'this tree (answer cache on)', cwd: process.cwd(), env: {}, clients: [PLAIN, GZIP] },
];
// BENCH_ONLY_LAST=1 runs only this tree as configured by default.
const variants = process.env.BENCH_ONLY_LAST ? allVariants.slice(-1) : allVariants;
// BENCH_WARM=all asks every distinct path once before a route is measured (a warm answer cache: the steady
// state of a read-mostly farm); by default only a 2 s warm-up, so most answers are read for the first time.
const WARM_ALL = process.env.BENCH_WARM === 'all';

/** The answer cache's hits and misses so far, from the server's /metrics (null when it has none). */
async function cacheCounts(base: string): Promise<{ hits: number; misses: number } | null> {
  const text = await (await fetch(`${base}/metrics`)).text();
  if (metricSamples(text, 'kiln_http_cache_hits_total').length === 0) return null;
  return {
    hits: metricTotal(text, 'kiln_http_cache_hits_total'),
    misses: metricTotal(text, 'kiln_http_cache_misses_total'),
  };
}

const baselines = new Map<string, { p95: number; rps: number }>();
const missed: string[] = [];
const rows: string[] = [];
for (const variant of variants) {
  const port = await freePort();
  const logPath = `/tmp/kiln-bench-api-server-${process.pid}-${variants.indexOf(variant)}.log`;
  const serverLog = await open(logPath, 'w');
  const server = spawn(process.execPath, [...NODE_FLAGS, 'bin/kiln.js', 'server'], {
    cwd: variant.cwd,
    env: {
      ...process.env,
      KILN_DATABASE_URL: dbUrl,
      KILN_HTTP_PORT: String(port),
      KILN_HTTP_HOST: '127.0.0.1',
      KILN_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      ...variant.env,
    },
    stdio: ['ignore', serverLog.fd, serverLog.fd],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/v1/openapi.json`)).ok) break;
    } catch {
      if (i > 150) throw new Error(`the server (${variant.name}) did not start: see ${logPath}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const rss = async (): Promise<{ now: number; peak: number }> => {
    const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
    const mb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
    return { now: mb('VmRSS'), peak: mb('VmHWM') };
  };
  const last = variant === variants[variants.length - 1];
  console.log(
    `\n== ${variant.name}${FARM > 0 ? `, while a farm of ${FARM} running builds writes` : ''}: server up (node ${NODE_FLAGS.join(' ')}), RSS ${(await rss()).now.toFixed(0)} MB; load generator: ${client}, ${CONNECTIONS} connections, ${SECONDS} s per route and client`,
  );
  try {
    for (const endpoint of endpoints) {
      const paths = Array.from({ length: 2000 }, (_, i) => endpoint.path(sample[i % sample.length]!));
      for (const { name: accepts, headers } of variant.clients) {
        const label = `${endpoint.name} (${accepts})`;
        // A busy farm's writes (BENCH_FARM) go on from before the warm-up to the end of the measured run.
        const churn = FARM > 0 ? await startFarmChurn(db, FARM) : null;
        // A short warm-up, so the JIT and the pool's connections are not in the figures.
        await runLoad(client, { base, paths, connections: CONNECTIONS, seconds: 2, headers });
        if (WARM_ALL) {
          const distinct = [...new Set(paths)];
          for (let i = 0; i < distinct.length; i += 8)
            await Promise.all(distinct.slice(i, i + 8).map(async (p) => (await fetch(`${base}${p}`)).arrayBuffer()));
        }
        const cacheSays = (await fetch(`${base}${paths[0]!}`)).headers.get('x-kiln-cache') ?? 'none';
        const load = await loadAverage();
        const [server0, pg0, cache0] = await Promise.all([
          processCpuMs(server.pid!),
          backendsCpuMs(dbName),
          cacheCounts(base),
        ]);
        const result = await runLoad(client, { base, paths, connections: CONNECTIONS, seconds: SECONDS, headers });
        const [server1, pg1, cache1] = await Promise.all([
          processCpuMs(server.pid!),
          backendsCpuMs(dbName),
          cacheCounts(base),
        ]);
        const written = await churn?.stop();
        const hitRate =
          cache0 && cache1
            ? `; cache hit rate ${((100 * (cache1.hits - cache0.hits)) / Math.max(1, cache1.hits - cache0.hits + cache1.misses - cache0.misses)).toFixed(1)} %`
            : '';
        const farmWrites = written
          ? `; farm writes: ${written.leases} lease renewals, ${written.stages} stage rows, ${written.packages} packages`
          : '';
        let baseline = baselines.get(endpoint.name);
        if (!baseline) baselines.set(endpoint.name, (baseline = await direct(endpoint)));
        const perRequest = (ms: number) => (ms / Math.max(1, result.requests)).toFixed(2);
        if (last && result.p95 >= GOAL_MS) missed.push(label);
        const line =
          `${label.padEnd(28)} p95 ${result.p95.toFixed(1).padStart(6)} ms (p50 ${result.p50.toFixed(1)}, p99 ${result.p99.toFixed(1)})` +
          `  ${String(Math.round(result.rps)).padStart(5)} req/s  direct p95 ${baseline.p95.toFixed(1).padStart(5)} ms` +
          ` ${String(Math.round(baseline.rps)).padStart(5)}/s  ratio ${(result.p95 / baseline.p95).toFixed(2)}x` +
          `  ${result.p95 < GOAL_MS ? 'ok' : 'MISSED'}${result.errors ? `  (${result.errors} errors)` : ''}\n` +
          `${''.padEnd(28)} CPU ms/request: server ${perRequest(server1 - server0)}, PostgreSQL ${perRequest(pg1 - pg0)},` +
          ` ${client} ${perRequest(result.clientCpuMs)}; x-kiln-cache after warm-up: ${cacheSays}${hitRate}; load average before: ${load}${farmWrites}`;
        const memory = await rss();
        console.log(`${line}; server RSS ${memory.now.toFixed(0)} MB, peak so far ${memory.peak.toFixed(0)} MB`);
        rows.push(
          `${variant.name.slice(0, 28).padEnd(28)} ${label.padEnd(28)} p95 ${result.p95.toFixed(1).padStart(6)} ms  load ${load.split(' ')[0]}`,
        );
      }
    }
    const memory = await rss();
    if (last && memory.peak >= 200) missed.push('RSS');
    console.log(
      `server RSS: ${memory.now.toFixed(0)} MB now, ${memory.peak.toFixed(0)} MB peak (goal < 200 MB: ${memory.peak < 200 ? 'ok' : 'MISSED'})`,
    );
    rows.push(`${variant.name.slice(0, 28).padEnd(28)} ${'RSS peak'.padEnd(28)} ${memory.peak.toFixed(0)} MB`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await serverLog.close();
  }
}
console.log(`\nsummary (the goal applies to the last variant):\n${rows.join('\n')}`);
console.log(`load average at the end: ${await loadAverage()}`);
console.log(missed.length === 0 ? 'every goal met' : `goals missed: ${missed.join(', ')}`);

console.log('\nquery plans of the searches:');
const s = pick();
for (const [by, value] of [
  ['soname', `libpkg${s.p}.so.1`],
  ['path', `/usr/bin/pkg${s.p}-tool2`],
  ['needs', `libpkg${s.p}.so.1`],
  ['sha256', (await db.query<{ sha256: string }>('SELECT sha256 FROM package_files LIMIT 1')).rows[0]!.sha256],
] as const) {
  const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${searchSql(by)}`, [value, 200]);
  console.log(`\n-- search by ${by}`);
  for (const row of plan.rows) console.log(row['QUERY PLAN']);
}
await db.end();
await drop?.();
