// What emulation costs: examples/libgreet (a small C library: compile, link,
// archive, a test program) built through `kiln run` natively and with
// `--arch arm64` (qemu-user through binfmt_misc, from the arm64 variant of
// the build image), rounds alternating, in the same run. The slowdown factor
// is that of the stages' time (what KILN_EMULATION_SLOWDOWN multiplies stage
// timeouts by); the whole run's wall time is shown beside it.
//
//   npx tsx bench/emulated-build.ts            BENCH_ROUNDS=3 BENCH_ARCH=arm64
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_EMULATION_SLOWDOWN, debianHostArch, type BuildReport } from '@kiln/shared';
import { exec } from './lib/exec.js';

const IMAGE = 'kiln/bookworm-build:latest';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ARCH = process.env.BENCH_ARCH ?? 'arm64';
const MANIFEST = `image: ${IMAGE}
package: {name: libgreet, version: 1.2.0}
stages: [build, test]
build: {script: ['make -j"$(nproc)"']}
test: {script: [make check]}
install: {script: ['make install PREFIX=/usr DESTDIR="$DESTDIR"']}
`;

interface Run {
  wall: number;
  stages: number;
}

async function build(arch: string | null, artifacts: string): Promise<Run> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-emulated-'));
  try {
    await cp(path.resolve('examples/libgreet'), dir, { recursive: true });
    await writeFile(path.join(dir, '.kiln.yml'), MANIFEST);
    const args = ['bin/kiln.js', 'run', dir, '--json', '--artifacts', artifacts, ...(arch ? ['--arch', arch] : [])];
    const started = performance.now();
    const report = JSON.parse(
      await exec(process.execPath, args, { ...process.env, KILN_LOG_LEVEL: 'warn', KILN_NETWORK: 'none' }),
    ) as BuildReport;
    const wall = (performance.now() - started) / 1000;
    if (report.status !== 'succeeded') throw new Error(`kiln run ${arch ?? ''}: ${report.status}: ${report.error}`);
    if (report.emulated !== (arch !== null)) throw new Error(`the report says emulated: ${report.emulated}`);
    const stages = report.stages.reduce((sum, s) => sum + s.durationMs, 0) / 1000;
    return { wall, stages };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const artifacts = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-artifacts-'));
try {
  // Warm: both images' layers in the page cache, qemu's binary too.
  await build(null, artifacts);
  await build(ARCH, artifacts);
  const native: Run[] = [];
  const emulated: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    native.push(await build(null, artifacts));
    emulated.push(await build(ARCH, artifacts));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const f = (x: number) => x.toFixed(2);
  const list = (runs: Run[], pick: (r: Run) => number) =>
    `${runs.map((r) => f(pick(r))).join(' / ')} s (median ${f(median(runs.map(pick)))})`;
  const stageRatios = emulated.map((e, i) => e.stages / native[i]!.stages);
  const wallRatios = emulated.map((e, i) => e.wall / native[i]!.wall);
  const factor = median(stageRatios);
  console.log(
    `examples/libgreet on ${IMAGE} through kiln run, ${debianHostArch()} native vs ${ARCH} emulated, ` +
      `${ROUNDS} rounds, ${os.cpus().length} CPUs`,
  );
  console.log(`  native stages:    ${list(native, (r) => r.stages)}; whole run ${list(native, (r) => r.wall)}`);
  console.log(`  emulated stages:  ${list(emulated, (r) => r.stages)}; whole run ${list(emulated, (r) => r.wall)}`);
  console.log(
    `  slowdown (stages): ${stageRatios.map((r) => `${f(r)}x`).join(' / ')}; median ${f(factor)}x` +
      ` (whole run: median ${f(median(wallRatios))}x)`,
  );
  // Timeouts must hold for bigger compiles than this one: twice the measured factor, rounded up.
  const suggested = Math.ceil(factor * 2);
  console.log(
    `  KILN_EMULATION_SLOWDOWN default: ${DEFAULT_EMULATION_SLOWDOWN} (2x the measured factor, rounded up: ${suggested})`,
  );
} finally {
  await rm(artifacts, { recursive: true, force: true });
}
