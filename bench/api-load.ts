// kiln server under load: a package database of 100,000 builds and 5,000,000
// file rows (generated in bulk by PostgreSQL), 50 concurrent HTTP clients on
// loopback (autocannon) against the build list, one build, one package
// version, and search by SONAME and by path. Goal: p95 < 50 ms each, server
// RSS < 200 MB. Baseline, in the same run: the same queries called directly
// (the server's own query functions over a pg pool of the same size, 50
// callers at once), so the ratio is what HTTP, validation and JSON add.
// Prints the query plans of the searches.
// Run: npx tsx bench/api-load.ts   (about 5 minutes on 2 cores; BENCH_SCALE=0.1 for a quick look)
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { createPool } from '@kiln/shared';
import { getBuild, listBuilds } from '../packages/server/src/db/build-queries.js';
import { packageDetails } from '../packages/server/src/db/package-queries.js';
import { searchFiles, searchSql } from '../packages/server/src/db/search-queries.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { freePort } from '../test/helpers/smtp-sink.js';

const run = promisify(execFile);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const PACKAGES = Math.round(2_000 * SCALE);
const VERSIONS = 50; // builds per package: 100,000 builds at scale 1
const FILES = 50; // files per build: 5,000,000 rows at scale 1
const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ARCH = 'amd64';

await using db = await createTestDatabase('kiln_bench_api');
const t0 = Date.now();
console.log(`filling: ${PACKAGES * VERSIONS} builds, ${PACKAGES * VERSIONS * FILES} file rows ...`);
// Secondary indexes go while rows are loaded, and come back (as migration 005 defines them) afterwards.
const migration = await readFile('packages/shared/migrations/005_http_server.sql', 'utf8');
const fileIndexes = [...migration.matchAll(/^CREATE INDEX IF NOT EXISTS (package_files_\w+) [^;]+;/gm)];
for (const [, name] of fileIndexes) await db.pool.query(`DROP INDEX ${name}`);
await db.pool.query('ALTER TABLE package_files DROP CONSTRAINT package_files_pkey');
await db.pool.query(
  `INSERT INTO builds (id, repo, branch, commit, package_name, package_version, trigger, status, attempt, agent,
                      queued_at, started_at, finished_at, duration_ms)
   SELECT md5('b' || p || '.' || v)::uuid, '/srv/git/pkg' || p || '.git', 'pkg' || p || '-1.0.' || v, md5('c' || p || v) || '00000000',
          'pkg' || p, '1.0.' || v, 'poll', (ARRAY['succeeded','succeeded','succeeded','failed'])[1 + (p + v) % 4], 1, 'agent-1',
          timestamptz '2026-01-01' + ((v * $1 + p) * interval '1 second'), timestamptz '2026-01-01' + ((v * $1 + p) * interval '1 second'),
          timestamptz '2026-01-01' + ((v * $1 + p) * interval '1 second') + interval '30 seconds', 30000
     FROM generate_series(0, $1 - 1) p, generate_series(0, $2 - 1) v`,
  [PACKAGES, VERSIONS],
);
await db.pool.query(
  `INSERT INTO build_stages (build_id, position, name, image, status, exit_code, started_at, duration_ms)
   SELECT id, s, (ARRAY['build','test'])[s + 1], 'debian:bookworm', 'succeeded', 0, started_at, 15000
     FROM builds, generate_series(0, 1) s`,
);
await db.pool.query(
  `INSERT INTO build_commands (build_id, stage_position, position, command, exit_code, started_at, duration_ms)
   SELECT build_id, position, c, 'make -j2 step' || c, 0, started_at, 5000 FROM build_stages, generate_series(0, 2) c`,
);
await db.pool.query(
  `INSERT INTO package_files (build_id, path, size, mode, sha256, kind, linkage, needed, soname)
   SELECT md5('b' || p || '.' || v)::uuid,
          CASE WHEN f = 0 THEN '/usr/lib/libpkg' || p || '.so.1.0.' || v
               WHEN f < 5 THEN '/usr/bin/pkg' || p || '-tool' || f
               ELSE '/usr/share/pkg' || p || '/file' || f END,
          1000 + f, CASE WHEN f < 5 THEN '0755' ELSE '0644' END,
          md5('s' || p || '.' || v || '.' || f) || md5('t' || p || '.' || v || '.' || f),
          CASE WHEN f = 0 THEN 'shared-library' WHEN f < 5 THEN 'executable' ELSE 'other' END,
          CASE WHEN f < 5 THEN 'dynamic' END,
          CASE WHEN f = 0 THEN ARRAY['libc.so.6'] WHEN f < 5 THEN ARRAY['libc.so.6', 'libpkg' || p || '.so.1', 'libpkg' || ((p + 1) % $1) || '.so.1'] END,
          CASE WHEN f = 0 THEN 'libpkg' || p || '.so.1' END
     FROM generate_series(0, $1 - 1) p, generate_series(0, $2 - 1) v, generate_series(0, $3 - 1) f`,
  [PACKAGES, VERSIONS, FILES],
);
await db.pool.query(
  `INSERT INTO packages (name, version, build_id, installed_size, file_count, payload_sha256, artifact, updated_at)
   SELECT package_name, package_version, id, $1 * 1000, $1, md5(id::text) || md5(id::text), NULL, finished_at
     FROM builds WHERE status = 'succeeded'`,
  [FILES],
);
await db.pool.query('ALTER TABLE package_files ADD PRIMARY KEY (build_id, path)');
for (const [statement] of fileIndexes) await db.pool.query(statement);
await db.pool.query('VACUUM ANALYZE');
console.log(`filled and indexed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

// A sample to draw requests from: real ids and names, so every request reads something different.
const sample = (
  await db.pool.query<{ id: string; name: string; version: string; p: number }>(
    `SELECT b.id::text AS id, p.name, p.version, substr(p.name, 4)::int AS p
       FROM packages p JOIN builds b ON b.id = p.build_id ORDER BY random() LIMIT 2000`,
  )
).rows;
const pick = () => sample[Math.floor(Math.random() * sample.length)]!;

interface Endpoint {
  name: string;
  path: () => string;
  direct: (pool: ReturnType<typeof createPool>) => Promise<unknown>;
}
const endpoints: Endpoint[] = [
  {
    name: 'build list (50)',
    path: () => '/api/v1/builds?limit=50',
    direct: (pool) => listBuilds(pool, { limit: 50 }, ARCH),
  },
  {
    name: 'one build',
    path: () => `/api/v1/builds/${pick().id}`,
    direct: (pool) => getBuild(pool, pick().id, ARCH),
  },
  {
    name: 'one package version',
    path: () => {
      const s = pick();
      return `/api/v1/packages/${s.name}/${s.version}`;
    },
    direct: (pool) => {
      const s = pick();
      return packageDetails(pool, s.name, s.version, ARCH);
    },
  },
  {
    name: 'search by SONAME',
    path: () => `/api/v1/search?soname=libpkg${pick().p}.so.1`,
    direct: (pool) => searchFiles(pool, 'soname', `libpkg${pick().p}.so.1`, ARCH),
  },
  {
    name: 'search by path',
    path: () => `/api/v1/search?path=/usr/bin/pkg${pick().p}-tool2`,
    direct: (pool) => searchFiles(pool, 'path', `/usr/bin/pkg${pick().p}-tool2`, ARCH),
  },
];

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? NaN;
}

/** The same queries without HTTP: 50 callers at once over a pool as large as the server's. */
async function direct(endpoint: Endpoint): Promise<{ p95: number; rps: number }> {
  const pool = createPool(db.url, { max: 20, applicationName: 'kiln-bench-direct' });
  const times: number[] = [];
  const deadline = Date.now() + (SECONDS * 1000) / 2;
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
  return { p95: p95(times), rps: times.length / (SECONDS / 2) };
}

// The server as a process of its own (its RSS is measured), from the compiled packages.
await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b']);
const port = await freePort();
const server = spawn(process.execPath, ['bin/kiln.js', 'server'], {
  env: {
    ...process.env,
    KILN_DATABASE_URL: db.url,
    KILN_HTTP_PORT: String(port),
    KILN_HTTP_HOST: '127.0.0.1',
    KILN_LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/api/v1/openapi.json`)).ok) break;
  } catch {
    if (i > 100) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}
const rss = async (): Promise<{ now: number; peak: number }> => {
  const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
};
console.log(`server up, RSS ${(await rss()).now.toFixed(0)} MB\n`);

const rows: string[] = [];
try {
  for (const endpoint of endpoints) {
    const times: number[] = [];
    let errors = 0;
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: base,
          connections: CONNECTIONS,
          duration: SECONDS,
          requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: endpoint.path() }) }],
        },
        (err, done) => (err ? reject(err) : resolve(done)),
      );
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        if (statusCode !== 200) errors++;
        times.push(responseTime);
      });
    });
    const baseline = await direct(endpoint);
    const apiP95 = p95(times);
    rows.push(
      `${endpoint.name.padEnd(20)} p95 ${apiP95.toFixed(1).padStart(6)} ms  ${String(Math.round(result.requests.average)).padStart(5)} req/s  ` +
        `direct p95 ${baseline.p95.toFixed(1).padStart(6)} ms  ratio ${(apiP95 / baseline.p95).toFixed(2)}x  ` +
        `${apiP95 < 50 ? 'ok' : 'MISSED'}${errors ? `  (${errors} non-200)` : ''}`,
    );
    console.log(rows[rows.length - 1]);
  }
  const memory = await rss();
  console.log(
    `\nserver RSS: ${memory.now.toFixed(0)} MB now, ${memory.peak.toFixed(0)} MB peak (goal < 200 MB: ${memory.peak < 200 ? 'ok' : 'MISSED'})`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
}

console.log('\nquery plans of the searches:');
const s = pick();
for (const [by, value] of [
  ['soname', `libpkg${s.p}.so.1`],
  ['path', `/usr/bin/pkg${s.p}-tool2`],
  ['needs', `libpkg${s.p}.so.1`],
  ['sha256', (await db.pool.query<{ sha256: string }>('SELECT sha256 FROM package_files LIMIT 1')).rows[0]!.sha256],
] as const) {
  const plan = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${searchSql(by)}`, [
    value,
    200,
  ]);
  console.log(`\n-- search by ${by}`);
  for (const row of plan.rows) console.log(row['QUERY PLAN']);
}
