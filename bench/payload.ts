/**
 * The payload phase of a build (after the install stage: read the install's
 * files from its container, sha256 each, classify them, pack the artifact)
 * against the same work done by hand on the same files, in the same run:
 *   - `sha256sum` of every file, and
 *   - `tar -cf - . | gzip -1 > file` of the same tree.
 * Goals (issue 19): Kiln ≤ 1.3× the slower baseline for one large file,
 * ≤ 1.5× for many small files.
 *
 *   npx tsx bench/payload.ts                 BENCH_MB=300 BENCH_FILES=30000 BENCH_ZLIB=1
 *   npx tsx bench/payload.ts --rss 1024      peak memory of one build whose payload is 1024 MB
 *
 * Payloads: BENCH_MB of random bytes in one file; BENCH_MB of random bytes in
 * BENCH_FILES files; the zlib fixture (test/fixtures/engine) built and installed.
 * Each is made on the host, copied into $DESTDIR by the install stage (Debian
 * bookworm), and the baselines run on the host's copy: the same files, both
 * in the page cache. Also shown, to tell where the time goes: Docker's own
 * archive of the same files (`docker cp container:dir -`, the floor of any
 * reading through Docker), the artifact's compression alone (`tar | zstd`),
 * and how busy Kiln's main thread was.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDockerEngine, engineOptionsFromConfig, type BuildEngine } from '@kiln/agent';
import { loadConfig, parseManifest, type InstallReport } from '@kiln/shared';

const MB = Number(process.env.BENCH_MB ?? 300);
const FILES = Number(process.env.BENCH_FILES ?? 30_000);
const ZLIB = process.env.BENCH_ZLIB !== '0';
const IMAGE = 'debian:bookworm';
const BUILD_IMAGE = 'kiln/bookworm-build:latest';
const ZLIB_FIXTURE = path.resolve('test/fixtures/engine/zlib_1.2.13.dfsg.orig.tar.bz2');

function sh(script: string, cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${script}: exit ${code}`))));
  });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await sh(`head -c ${bytes} /dev/urandom > '${file}'`);
}

async function writeSmallFiles(dir: string, count: number, totalBytes: number): Promise<void> {
  const each = Math.floor(totalBytes / count);
  for (let d = 0; d < Math.ceil(count / 100); d++) {
    const sub = path.join(dir, `d${d}`);
    await mkdir(sub, { recursive: true });
    await Promise.all(
      Array.from({ length: Math.min(100, count - d * 100) }, (_, i) =>
        writeFile(path.join(sub, `f${i}.dat`), randomBytes(each)),
      ),
    );
  }
}

interface KilnRun {
  seconds: number;
  install: InstallReport;
  /** Share of the phase Kiln's main thread was busy (event loop utilization). */
  busy: number;
  peakRss: number;
}

/** One build; the payload phase timed from the install stage's end to the payload's last progress event. */
async function kilnPayload(engine: BuildEngine, workspace: string, manifest: string, image: string): Promise<KilnRun> {
  const artifacts = path.join(workspace, '..', 'artifacts');
  let start = 0;
  let end = 0;
  let elu = performance.eventLoopUtilization();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  try {
    const { report } = await engine.build({
      buildId: randomUUID(),
      workspace,
      manifest: parseManifest(`image: ${image}\n${manifest}`, '.kiln.yml'),
      package: { name: 'bench', version: '1' },
      artifactDir: artifacts,
      events: {
        stageFinished: (e) => {
          if (e.name !== 'install') return;
          start = performance.now();
          elu = performance.eventLoopUtilization();
        },
        payload: (p) => {
          if (!p.done) return;
          end = performance.now();
          elu = performance.eventLoopUtilization(elu);
        },
      },
    });
    if (report.status !== 'succeeded' || !report.install)
      throw new Error(`the build ${report.status}: ${report.error}`);
    return { seconds: (end - start) / 1000, install: report.install, busy: elu.utilization, peakRss };
  } finally {
    clearInterval(sampler);
    await rm(artifacts, { recursive: true, force: true });
  }
}

/**
 * Docker's own work on the same tree, in a container of the same image: its
 * archive read and dropped (the floor of reading it through Docker), and its
 * filesystem diff (how Kiln finds what the install wrote).
 */
async function dockerFloor(tree: string, image: string): Promise<{ archive: number; diff: number }> {
  const name = `kiln-bench-floor-${randomBytes(3).toString('hex')}`;
  await sh(`docker create --name ${name} ${image} true >/dev/null && docker cp '${tree}/.' ${name}:/payload`);
  try {
    const archive = await timed(() => sh(`docker cp ${name}:/payload - > /dev/null`));
    const diff = await timed(() => sh(`docker diff ${name} > /dev/null`));
    return { archive, diff };
  } finally {
    await sh(`docker rm -f ${name} >/dev/null`);
  }
}

interface Row {
  name: string;
  kiln: KilnRun;
  sha256sum: number;
  tarGzip: number;
  docker: { archive: number; diff: number };
  tarZstd: number;
}

async function measure(
  name: string,
  tree: string,
  workspace: string,
  image: string,
  run: () => Promise<KilnRun>,
): Promise<Row> {
  const out = path.join(workspace, '..', 'baseline.out');
  const sha256sum = await timed(() => sh(`find . -type f -print0 | xargs -0 -r sha256sum > /dev/null`, tree));
  const tarGzip = await timed(() => sh(`tar -cf - . | gzip -1 > '${out}'`, tree));
  const kiln = await run();
  const tarZstd = await timed(() => sh(`tar -cf - . | zstd -q -3 -T0 > '${out}'`, tree));
  const docker = await dockerFloor(tree, image);
  await rm(out, { force: true });
  return { name, kiln, sha256sum, tarGzip, docker, tarZstd };
}

function print(rows: Row[]): void {
  const s = (x: number) => `${x.toFixed(2)} s`.padStart(8);
  console.log(
    '\npayload                         files  size MiB  kiln      sha256sum  tar|gzip -1  ratio*  | docker cp  docker diff  tar|zstd  main thread',
  );
  for (const r of rows) {
    const slower = Math.max(r.sha256sum, r.tarGzip);
    const files = r.kiln.install.files.length;
    console.log(
      `${r.name.padEnd(30)} ${String(files).padStart(6)}  ${(r.kiln.install.sizeBytes / 1024 ** 2).toFixed(1).padStart(8)}  ${s(r.kiln.seconds)}  ${s(r.sha256sum)}   ${s(r.tarGzip)}   ${(r.kiln.seconds / slower).toFixed(2).padStart(5)}x  | ${s(r.docker.archive)}  ${s(r.docker.diff)}     ${s(r.tarZstd)}  ${(r.kiln.busy * 100).toFixed(0).padStart(3)}% busy`,
    );
  }
  console.log('* kiln / the slower of sha256sum and tar|gzip -1. Artifact:', rows[0]?.kiln.install.artifact?.format);
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-payload-'));
  const engine = createDockerEngine({
    ...engineOptionsFromConfig(loadConfig({ ...process.env, KILN_NETWORK: 'none' })),
  });
  const install =
    'stages: [build]\nbuild: {script: ["true"]}\ninstall: {script: [\'cp -a /workspace/tree/. "$DESTDIR/"\']}\n';
  try {
    const rssArg = process.argv.indexOf('--rss');
    if (rssArg > 0) {
      // One build in this process, nothing else: its peak memory.
      const mb = Number(process.argv[rssArg + 1]);
      const workspace = path.join(root, 'ws');
      await writeRandomFile(path.join(workspace, 'tree/opt/big'), mb * 1024 ** 2);
      const run = await kilnPayload(engine, workspace, install, IMAGE);
      const maxRss = process.resourceUsage().maxRSS * 1024;
      console.log(JSON.stringify({ mb, seconds: run.seconds, peakRssDuringBuild: run.peakRss, maxRss }));
      return;
    }
    const rows: Row[] = [];
    const big = path.join(root, 'big', 'ws');
    await writeRandomFile(path.join(big, 'tree/opt/big'), MB * 1024 ** 2);
    rows.push(
      await measure(`${MB} MB random, one file`, path.join(big, 'tree'), big, IMAGE, () =>
        kilnPayload(engine, big, install, IMAGE),
      ),
    );
    await rm(path.join(root, 'big'), { recursive: true, force: true });

    const small = path.join(root, 'small', 'ws');
    await writeSmallFiles(path.join(small, 'tree/opt/data'), FILES, MB * 1024 ** 2);
    rows.push(
      await measure(`${MB} MB random, ${FILES} files`, path.join(small, 'tree'), small, IMAGE, () =>
        kilnPayload(engine, small, install, IMAGE),
      ),
    );
    await rm(path.join(root, 'small'), { recursive: true, force: true });

    if (ZLIB) {
      // The real package: built once (not timed), its payload then measured as the others.
      const ws = path.join(root, 'zlib', 'ws');
      await mkdir(ws, { recursive: true });
      await copyFile(ZLIB_FIXTURE, path.join(ws, 'zlib.tar.bz2'));
      const zlib = `stages: [build]
build: {script: ["tar xjf zlib.tar.bz2", "cd zlib-1.2.13.dfsg && ./configure --prefix=/usr && make -j2"]}
install: {script: ['cd zlib-1.2.13.dfsg && make install DESTDIR="$DESTDIR"']}
`;
      // A first build (not timed) installs the tree the baselines run on: its artifact, extracted.
      const tree = path.join(root, 'zlib', 'tree');
      await mkdir(tree, { recursive: true });
      const first = await engine.build({
        buildId: randomUUID(),
        workspace: ws,
        manifest: parseManifest(`image: ${BUILD_IMAGE}\n${zlib}`, '.kiln.yml'),
        package: { name: 'zlib', version: '1.2.13' },
        artifactDir: path.join(root, 'zlib'),
      });
      const artifact = first.report.install?.artifact;
      if (!artifact) throw new Error(`the zlib build ${first.report.status}: ${first.report.error}`);
      await sh(`tar xf '${artifact.path}' -C '${tree}'`);
      rows.push(
        await measure('zlib 1.2.13 (fixture)', tree, ws, BUILD_IMAGE, () => kilnPayload(engine, ws, zlib, BUILD_IMAGE)),
      );
    }
    print(rows);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
