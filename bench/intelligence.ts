// Package intelligence: what it costs and how fast it answers.
// 1. On Debian's zlib (test/fixtures/engine), built here with gcc: the time
//    to inspect the installed files as the payload does (stream, sha256, ELF
//    headers incl. the new facts, kind) is the baseline; the added analysis
//    is the ELF facts, provides, policy findings and the diff against a
//    previous build, plus the record-time database work (needs resolution,
//    previous build, diff stored, facts written). Goal: added <= 5 %.
// 2. "Who needs libz.so.1" and "which package provides libz.so.1" over
//    5,000,000 file rows (generated in bulk as bench/api-load.ts does).
//    Goal: < 20 ms each. Baseline in the same run: one build by primary key.
//    "Who needs" reads the current builds' rows of package_needs (migrations
//    012 and 018); the plans are printed.
// Run: npx tsx bench/intelligence.ts   (BENCH_SCALE=0.1 for a quick look; BENCH_ONLY=queries skips part 1)
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import {
  compareBuilds,
  previousBuild,
  loadBuildSide,
  providedSonames,
  storeDiff,
  createPool,
  type InstalledFile,
} from '@kiln/shared';
import { classifyFile } from '../packages/agent/src/engine/file-kind.js';
import { elfFacts } from '../packages/agent/src/engine/inspect/elf-facts.js';
import { scanFile } from '../packages/agent/src/engine/payload/file-scan.js';
import { writeFileFacts } from '../packages/agent/src/intel/file-facts-rows.js';
import { currentDependents } from '../packages/agent/src/intel/dependent-rebuilds.js';
import { unresolvedNeeds } from '../packages/agent/src/intel/needs-resolution.js';
import { policyFindings } from '../packages/agent/src/intel/policy-findings.js';
import { searchFiles, searchSql } from '../packages/server/src/db/search-queries.js';
import { ADMIN_URL, createTestDatabase } from '../test/helpers/database.js';

const run = promisify(execFile);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = 30;
const PART_ONE = process.env.BENCH_ONLY !== 'queries';

class Skip extends Error {}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function stats(samples: number[]): { p50: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
  return { p50: at(0.5), p95: at(0.95) };
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

// ---- 1. zlib: inspection vs added analysis --------------------------------------------------------------
const work = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-intel-'));
try {
  if (!PART_ONE) throw new Skip();
  console.log('building zlib 1.2.13 (Debian source) with gcc ...');
  await run('tar', ['xjf', path.resolve('test/fixtures/engine/zlib_1.2.13.dfsg.orig.tar.bz2'), '-C', work]);
  const src = path.join(work, 'zlib-1.2.13.dfsg');
  await run(
    'sh',
    ['-c', './configure --prefix=/usr >/dev/null && make -j2 >/dev/null && make install DESTDIR=../dest >/dev/null'],
    { cwd: src },
  );
  const dest = path.join(work, 'dest');
  const entries = (await readdir(dest, { recursive: true, withFileTypes: true })).filter((e) => !e.isDirectory());
  const paths = entries.map((e) => path.join(e.parentPath, e.name));

  async function inspect(): Promise<{ files: InstalledFile[]; facts: Array<() => InstalledFile> }> {
    const files: InstalledFile[] = [];
    const facts: Array<() => InstalledFile> = [];
    for (const full of paths) {
      const installed = `/${path.relative(dest, full)}`;
      const st = await lstat(full);
      if (st.isSymbolicLink()) {
        files.push({ path: installed, size: 0, mode: '0777', kind: 'symlink', target: await readlink(full) });
        continue;
      }
      const scanned = await scanFile(
        createReadStream(full, { highWaterMark: 64 * 1024 }),
        st.size,
        null,
        () => undefined,
      );
      const kind = classifyFile({ path: installed, mode: st.mode, head: scanned.head, elf: scanned.elf });
      const file: InstalledFile = {
        path: installed,
        size: scanned.size,
        mode: (st.mode & 0o7777).toString(8),
        sha256: scanned.sha256,
        kind: kind.kind,
        ...(kind.needed ? { needed: kind.needed } : {}),
      };
      files.push(file);
      facts.push(() => ({ ...file, ...elfFacts(kind.kind, scanned.elf, st.mode) }));
    }
    return { files, facts };
  }

  await using db = await createTestDatabase('kiln_bench_intel_small');
  const insertBuild = async (id: string, version: string, files: InstalledFile[]) => {
    await db.pool.query(
      `INSERT INTO builds (id, repo, package_name, package_version, status, trigger) VALUES ($1, '/srv/git/zlib.git', 'zlib', $2, 'succeeded', 'poll')`,
      [id, version],
    );
    await db.pool.query(
      `INSERT INTO package_files (build_id, path, size, mode, sha256, kind, needed)
       SELECT $1, t.path, t.size, t.mode, t.sha256, t.kind, NULL FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS t(path, size, mode, sha256, kind)`,
      [
        id,
        files.map((f) => f.path),
        files.map((f) => f.size),
        files.map((f) => f.mode),
        files.map((f) => f.sha256 ?? null),
        files.map((f) => f.kind),
      ],
    );
  };
  const previousId = randomUUID();
  await insertBuild(previousId, '1.2.12', (await inspect()).files);

  const inspectTimes: number[] = [];
  const cpuTimes: number[] = [];
  const dbTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const { files: plain, facts } = await inspect();
    inspectTimes.push(performance.now() - t);

    t = performance.now();
    const files = [...plain.filter((f) => f.kind === 'symlink'), ...facts.map((f) => f())];
    const factsMs = performance.now() - t;
    const before = await loadBuildSide(db.pool, previousId); // database work: timed below
    t = performance.now();
    const diff = compareBuilds(
      before!,
      { id: randomUUID(), version: '1.2.13', files, commands: [] },
      'previous-version',
    );
    providedSonames(files);
    policyFindings(files, [], diff);
    cpuTimes.push(factsMs + performance.now() - t);

    const id = randomUUID();
    await insertBuild(id, '1.2.13', plain);
    const dbStart = performance.now();
    await previousBuild(db.pool, id);
    await loadBuildSide(db.pool, previousId);
    await unresolvedNeeds(db.pool, files, ['libc.so.6']);
    await writeFileFacts(db.pool, id, files);
    await storeDiff(db.pool, { ...diff, build: id });
    dbTimes.push(performance.now() - dbStart);
  }
  const inspectMs = stats(inspectTimes).p50;
  const cpuMs = stats(cpuTimes).p50;
  const dbMs = stats(dbTimes).p50;
  console.log(`zlib: ${paths.length} installed files, ${ROUNDS} rounds (medians)`);
  console.log(`  inspection (stream, sha256, ELF headers and facts, kind): ${ms(inspectMs)}  [baseline]`);
  console.log(
    `  added analysis, in memory (facts, provides, diff, findings): ${ms(cpuMs)}  = ${((cpuMs / inspectMs) * 100).toFixed(2)} % of inspection`,
  );
  console.log(
    `  added record-time database work (needs, previous build, diff, facts): ${ms(dbMs)}  = ${((dbMs / inspectMs) * 100).toFixed(1)} % of inspection`,
  );
} catch (error) {
  if (!(error instanceof Skip)) throw error;
} finally {
  await rm(work, { recursive: true, force: true });
}

// ---- 2. who needs / who provides over 5,000,000 file rows ----------------------------------------------
const PACKAGES = Math.round(2_000 * SCALE);
const VERSIONS = 50;
const FILES = 50;
// BENCH_KEEP=1 keeps the filled database and prints its name; BENCH_DATABASE=<name> reuses it (filling takes minutes).
const reuse = process.env.BENCH_DATABASE;
const created = reuse ? null : await createTestDatabase('kiln_bench_intel');
const big = created ?? { pool: createPool(databaseUrl(reuse!), { max: 4 }), name: reuse! };
if (reuse) console.log(`reusing ${reuse}`);
else if (process.env.BENCH_KEEP) console.log(`keeping the database: BENCH_DATABASE=${big.name}`);
if (!reuse) {
  const t0 = Date.now();
  console.log(`filling: ${PACKAGES * VERSIONS} builds, ${PACKAGES * VERSIONS * FILES} file rows ...`);
  const indexSql = [
    ...(await readFile('packages/shared/migrations/005_http_server.sql', 'utf8')).matchAll(
      /^CREATE INDEX IF NOT EXISTS (package_files_\w+) [^;]+;/gm,
    ),
  ];
  for (const [, name] of indexSql) await big.pool.query(`DROP INDEX ${name}`);
  await big.pool.query('ALTER TABLE package_files DROP CONSTRAINT package_files_pkey');
  await big.pool.query('ALTER TABLE package_needs DROP CONSTRAINT package_needs_pkey');
  await big.pool.query('DROP INDEX package_needs_current_idx');
  await big.pool.query(
    `INSERT INTO builds (id, repo, branch, package_name, package_version, trigger, status, queued_at)
     SELECT md5('b' || p || '.' || v)::uuid, '/srv/git/pkg' || p || '.git', 'pkg' || p || '-1.0.' || v, 'pkg' || p, '1.0.' || v, 'poll', 'succeeded',
            timestamptz '2026-01-01' + ((v * $1 + p) * interval '1 second')
       FROM generate_series(0, $1 - 1) p, generate_series(0, $2 - 1) v`,
    [PACKAGES, VERSIONS],
  );
  // Packages first: the rows package_needs gets from the files (by trigger) then know their build is current.
  await big.pool.query(
    `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count)
     SELECT package_name, package_version, 'amd64', id, $1 * 1000, $1 FROM builds`,
    [FILES],
  );
  // pkg0 is zlib: its library provides libz.so.1; one package in a hundred has executables that need it.
  await big.pool.query(
    `INSERT INTO package_files (build_id, path, size, mode, sha256, kind, linkage, needed, soname, relro, bind_now, nx_stack, stripped)
     SELECT md5('b' || p || '.' || v)::uuid,
            CASE WHEN f = 0 THEN '/usr/lib/libpkg' || p || '.so.1.0.' || v WHEN f < 5 THEN '/usr/bin/pkg' || p || '-tool' || f
                 ELSE '/usr/share/pkg' || p || '/file' || f END,
            1000 + f, CASE WHEN f < 5 THEN '0755' ELSE '0644' END,
            md5('s' || p || '.' || v || '.' || f) || md5('t' || p || '.' || v || '.' || f),
            CASE WHEN f = 0 THEN 'shared-library' WHEN f < 5 THEN 'executable' ELSE 'other' END,
            CASE WHEN f < 5 THEN 'dynamic' END,
            CASE WHEN f = 0 THEN ARRAY['libc.so.6']
                 WHEN f < 5 AND p % 100 = 1 THEN ARRAY['libc.so.6', 'libz.so.1', 'libpkg' || p || '.so.1']
                 WHEN f < 5 THEN ARRAY['libc.so.6', 'libpkg' || p || '.so.1', 'libpkg' || ((p + 1) % $1) || '.so.1'] END,
            CASE WHEN f = 0 AND p = 0 THEN 'libz.so.1' WHEN f = 0 THEN 'libpkg' || p || '.so.1' END,
            CASE WHEN f < 5 THEN 'partial' END, CASE WHEN f < 5 THEN false END, CASE WHEN f < 5 THEN true END,
            CASE WHEN f < 5 THEN true END
       FROM generate_series(0, $1 - 1) p, generate_series(0, $2 - 1) v, generate_series(0, $3 - 1) f`,
    [PACKAGES, VERSIONS, FILES],
  );
  await big.pool.query('ALTER TABLE package_files ADD PRIMARY KEY (build_id, path)');
  await big.pool.query('ALTER TABLE package_needs ADD PRIMARY KEY (build_id, path, soname)');
  const needsIndex = (await readFile('packages/shared/migrations/018_package_needs_current.sql', 'utf8')).match(
    /CREATE INDEX IF NOT EXISTS package_needs_current_idx[^;]+;/,
  );
  await big.pool.query(needsIndex![0]);
  for (const [statement] of indexSql) await big.pool.query(statement);
  await big.pool.query('VACUUM ANALYZE');
  console.log(`filled and indexed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

const someBuild = (await big.pool.query<{ id: string }>('SELECT id::text AS id FROM builds LIMIT 1')).rows[0]!.id;
async function time(what: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await what();
  const samples: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await what();
    samples.push(performance.now() - t);
  }
  return stats(samples);
}
const needsRows = await big.pool.query<{ n: string }>(
  `SELECT count(*) AS n FROM package_needs WHERE soname = 'libz.so.1'`,
);
console.log(`package_needs: libz.so.1 needed by ${needsRows.rows[0]!.n} file rows`);
for (const by of ['needs', 'soname'] as const) {
  const plan = await big.pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) ${searchSql(by)}`,
    ['libz.so.1', 200],
  );
  console.log(`plan of search ?${by}=libz.so.1:\n  ${plan.rows.map((r) => r['QUERY PLAN']).join('\n  ')}`);
}
const baseline = await time(() => big.pool.query('SELECT * FROM builds WHERE id = $1', [someBuild]));
const queries: Array<[string, () => Promise<unknown>]> = [
  ['who needs libz.so.1 (search ?needs=, 200 rows)', () => searchFiles(big.pool, 'needs', 'libz.so.1')],
  ['which package provides libz.so.1 (search ?soname=)', () => searchFiles(big.pool, 'soname', 'libz.so.1')],
  [
    'needs resolution at record time (libz.so.1, libpkg7.so.1)',
    () =>
      unresolvedNeeds(
        big.pool,
        [
          {
            path: '/usr/bin/x',
            size: 1,
            mode: '0755',
            kind: 'executable',
            needed: ['libz.so.1', 'libpkg7.so.1', 'libnone.so.9'],
          },
        ],
        [],
      ),
  ],
  [
    'current packages needing libz.so.1 (dependents)',
    () => currentDependents(big.pool, someBuild, ['libz.so.1'], 1000),
  ],
];
console.log(`baseline: one build by primary key  p50 ${ms(baseline.p50)}  p95 ${ms(baseline.p95)}`);
for (const [name, query] of queries) {
  const s = await time(query);
  console.log(
    `${name}:  p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  (${(s.p50 / baseline.p50).toFixed(1)}x baseline)  goal < 20 ms: ${s.p95 < 20 ? 'met' : 'MISSED'}`,
  );
}
if (created && !process.env.BENCH_KEEP) await created[Symbol.asyncDispose]();
else await big.pool.end();
