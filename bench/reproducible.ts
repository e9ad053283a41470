// What a reproducibility check costs: zlib through `kiln run` with
// `verify: [reproducible]` (a second build in a varied environment, started
// as soon as the first has its compiler image, then the payloads compared file
// by file) against the same build once, measured in the same run, rounds
// alternating. Goal: checked <= 2.1x one build.
//
//   npx tsx bench/reproducible.ts            BENCH_ROUNDS=3
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BuildReport } from '@kiln/shared';
import { exec } from './lib/exec.js';

const IMAGE = 'kiln/bookworm-build:latest';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARBALL = path.resolve('test/fixtures/engine/zlib_1.2.13.dfsg.orig.tar.bz2');
const SRC = 'zlib-1.2.13.dfsg';
const manifest = (checked: boolean) => `image: ${IMAGE}
${checked ? 'verify: [reproducible]\n' : ''}stages: [build, test]
build:
  script: ['tar xjf zlib.tar.bz2', 'cd ${SRC} && ./configure --prefix=/usr && make -j"$(nproc)"']
test:
  script: ['cd ${SRC} && make test']
install:
  script: ['cd ${SRC} && make install DESTDIR="$DESTDIR"']
`;

async function kiln(checked: boolean, artifacts: string): Promise<{ seconds: number; report: BuildReport }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-repro-'));
  try {
    await copyFile(TARBALL, path.join(dir, 'zlib.tar.bz2'));
    await writeFile(path.join(dir, '.kiln.yml'), manifest(checked));
    const started = performance.now();
    const out = await exec(process.execPath, ['bin/kiln.js', 'run', dir, '--json', '--artifacts', artifacts], {
      ...process.env,
      KILN_LOG_LEVEL: 'warn',
      SOURCE_DATE_EPOCH: '1600000000',
    });
    const seconds = (performance.now() - started) / 1000;
    const report = JSON.parse(out) as BuildReport;
    if (report.status !== 'succeeded') throw new Error(`kiln run ${report.status}: ${report.error}`);
    if (checked && report.reproducibility?.status !== 'reproducible')
      throw new Error(`zlib was not found reproducible: ${JSON.stringify(report.reproducibility)}`);
    return { seconds, report };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const artifacts = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-artifacts-'));
try {
  await kiln(false, artifacts); // warm: the image's layers in the page cache
  const once: number[] = [];
  const checked: Array<{ seconds: number; report: BuildReport }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    once.push((await kiln(false, artifacts)).seconds);
    checked.push(await kiln(true, artifacts));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = checked.map((c, i) => c.seconds / once[i]!);
  const f = (x: number) => x.toFixed(2);
  console.log(`zlib 1.2.13 (Debian's source) on ${IMAGE} through kiln run, ${ROUNDS} rounds, ${os.cpus().length} CPUs`);
  console.log(`  one build:                ${once.map(f).join(' / ')} s (median ${f(median(once))})`);
  console.log(
    `  with the check:           ${checked.map((c) => f(c.seconds)).join(' / ')} s (median ${f(median(checked.map((c) => c.seconds)))})`,
  );
  console.log(
    `  ratio checked / once:     ${ratios.map((r) => `${f(r)}x`).join(' / ')}; median ${f(median(ratios))}x (goal <= 2.1x)`,
  );
  const last = checked.at(-1)!.report;
  console.log(
    `  the second build, from its start to the verdict: ${f((last.reproducibility?.durationMs ?? 0) / 1000)} s; varied: ${Object.keys(last.reproducibility?.variations ?? {}).join(', ')}`,
  );
  console.log(
    `  load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await rm(artifacts, { recursive: true, force: true });
}
