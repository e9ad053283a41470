// Per-stage overhead of Kiln's engine against a plain `docker run --rm` of
// the same trivial command, measured in the same run.
//
//   npx tsx bench/stage-overhead.ts [stages] [rounds]
//
// Kiln runs each stage in a fresh container too, with more around it (a
// script wrapper, an init, limits, labels, output demultiplexing, marker
// parsing, masking); it makes the next stage's container while the current
// one runs and removes finished ones in the background. The goal: no more
// per stage than `docker run` (ratio <= 1.0).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDockerEngine, engineOptionsFromConfig, type BuildEngine } from '@kiln/agent';
import { loadConfig, parseManifest } from '@kiln/shared';

const IMAGE = 'kiln/busybox:latest';
const COMMAND = 'true';
const stages = Number(process.argv[2] ?? 10);
const rounds = Number(process.argv[3] ?? 3);

function dockerRun(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', '--rm', IMAGE, COMMAND], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker run exited ${code}`))));
  });
}

async function plainRuns(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < stages; i++) await dockerRun();
  return (performance.now() - started) / stages;
}

async function kilnBuild(
  engine: BuildEngine,
  workspace: string,
): Promise<{ perStage: number; perStageInside: number }> {
  const names = Array.from({ length: stages }, (_, i) => `s${i}`);
  const manifest = parseManifest(
    `image: ${IMAGE}\nstages: [${names.join(', ')}]\n${names.map((n) => `${n}: {script: ["${COMMAND}"]}`).join('\n')}\n`,
  );
  let firstStart = 0;
  let lastEnd = 0;
  const started = performance.now();
  const { report } = await engine.build({
    buildId: randomUUID(),
    workspace,
    manifest,
    package: null,
    events: {
      stageStarted: () => {
        if (!firstStart) firstStart = performance.now();
      },
      stageFinished: () => {
        lastEnd = performance.now();
      },
    },
  });
  const total = performance.now() - started;
  if (report.status !== 'succeeded') throw new Error(`the benchmark build ${report.status}: ${report.error}`);
  return { perStage: total / stages, perStageInside: (lastEnd - firstStart) / stages };
}

const engine = createDockerEngine({ ...engineOptionsFromConfig(loadConfig()) });
const workspace = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-'));
try {
  // Warm-up: the image in the page cache, Docker's and Node's first-call costs paid.
  await dockerRun();
  await kilnBuild(engine, workspace);

  const plain: number[] = [];
  const kiln: number[] = [];
  const inside: number[] = [];
  for (let round = 0; round < rounds; round++) {
    plain.push(await plainRuns());
    const k = await kilnBuild(engine, workspace);
    kiln.push(k.perStage);
    inside.push(k.perStageInside);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`${stages} stages of \`${COMMAND}\` on ${IMAGE}, ${rounds} rounds (medians)`);
  console.log(`  docker run --rm (CLI), per run:              ${ms(median(plain))}`);
  console.log(`  kiln, per stage (whole build / stages):      ${ms(median(kiln))}`);
  console.log(`  kiln, per stage (first start to last end):   ${ms(median(inside))}`);
  console.log(
    `  ratio kiln / docker run: ${(median(kiln) / median(plain)).toFixed(2)}x (whole build), ${(median(inside) / median(plain)).toFixed(2)}x (stages only)`,
  );
} finally {
  await rm(workspace, { recursive: true, force: true });
}
