// A real package through `kiln run` against the same commands in one plain
// `docker run`, measured in the same run.
//
//   npx tsx bench/real-package.ts            BENCH_ROUNDS=3
//
// The package is Debian's zlib 1.2.13 source (the test fixture), built on
// kiln/bookworm-build: configure, make, make test, make install. Kiln runs
// three stages, each in a fresh container, then reads the payload back,
// inspects every file (ELF, sha256) and writes the artifact; the baseline runs
// the same commands in one container with the same CPU and memory limits
// and installs into a folder, nothing more. Goal: kiln <= 1.10x.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type BuildReport } from '@kiln/shared';
import { exec } from './lib/exec.js';

const IMAGE = 'kiln/bookworm-build:latest';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARBALL = path.resolve('test/fixtures/engine/zlib_1.2.13.dfsg.orig.tar.bz2');
const SRC = 'zlib-1.2.13.dfsg';
const BUILD = ['tar xjf zlib.tar.bz2', `cd ${SRC}`, './configure --prefix=/usr', 'make -j2'];
const TEST = `cd ${SRC} && make test`;
const INSTALL = `cd ${SRC} && make install DESTDIR="$DESTDIR"`;
const MANIFEST = `image: ${IMAGE}
stages: [build, test]
build:
  script:
${BUILD.map((l) => `    - ${l}`).join('\n')}
test:
  script: ["${TEST}"]
install:
  script: ['${INSTALL}']
`;

async function checkout(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-zlib-'));
  await copyFile(TARBALL, path.join(dir, 'zlib.tar.bz2'));
  await writeFile(path.join(dir, '.kiln.yml'), MANIFEST);
  return dir;
}

const config = loadConfig();

/** The same commands in one container, with Kiln's CPU and memory limits, installing into a folder. */
async function plain(): Promise<number> {
  const dir = await checkout();
  try {
    const script = [
      ...BUILD,
      'cd /w',
      TEST,
      'cd /w',
      'export DESTDIR=/tmp/destdir',
      INSTALL,
      'find /tmp/destdir | wc -l',
    ].join(' && ');
    const started = performance.now();
    await exec('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--cpus',
      String(config.KILN_CPU_LIMIT),
      '--memory',
      String(config.KILN_MEMORY_LIMIT),
      '-v',
      `${dir}:/w`,
      '-w',
      '/w',
      IMAGE,
      'sh',
      '-ec',
      script,
    ]);
    return (performance.now() - started) / 1000;
  } finally {
    await exec('docker', ['run', '--rm', '-v', `${dir}:/w`, IMAGE, 'rm', '-rf', `/w/${SRC}`]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** `kiln run --json`, as a person would run it in the checkout. */
async function kiln(artifacts: string): Promise<{ seconds: number; report: BuildReport }> {
  const dir = await checkout();
  try {
    const started = performance.now();
    const out = await exec(process.execPath, ['bin/kiln.js', 'run', dir, '--json', '--artifacts', artifacts], {
      ...process.env,
      KILN_LOG_LEVEL: 'warn',
    });
    const seconds = (performance.now() - started) / 1000;
    const report = JSON.parse(out) as BuildReport;
    if (report.status !== 'succeeded') throw new Error(`kiln run ${report.status}: ${report.error}`);
    return { seconds, report };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const artifacts = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-artifacts-'));
try {
  const plainTimes: number[] = [];
  const kilnRuns: Array<{ seconds: number; report: BuildReport }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    plainTimes.push(await plain());
    kilnRuns.push(await kiln(artifacts));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = kilnRuns.map((k, i) => k.seconds / plainTimes[i]!);
  const f = (x: number) => x.toFixed(2);
  console.log(`zlib 1.2.13 (Debian's source) on ${IMAGE}, ${ROUNDS} rounds, ${config.KILN_CPU_LIMIT} CPUs`);
  console.log(`  one plain docker run:  ${plainTimes.map(f).join(' / ')} s (median ${f(median(plainTimes))})`);
  console.log(
    `  kiln run:              ${kilnRuns.map((k) => f(k.seconds)).join(' / ')} s (median ${f(median(kilnRuns.map((k) => k.seconds)))})`,
  );
  console.log(
    `  ratio kiln / plain:    ${ratios.map((r) => `${f(r)}x`).join(' / ')}; median ${f(median(ratios))}x (goal <= 1.10x)`,
  );
  const last = kilnRuns.at(-1)!.report;
  console.log('  the last kiln run, phase by phase:');
  for (const t of last.timings ?? [])
    console.log(
      `    ${(t.stage && t.stage !== t.phase ? `${t.phase} ${t.stage}` : t.phase).padEnd(14)} ${t.durationMs} ms`,
    );
} finally {
  await rm(artifacts, { recursive: true, force: true });
}
