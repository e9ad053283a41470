/**
 * Which compression the payload artifact gets, by measurement: each candidate
 * packs the same two tars (read from the page cache, output counted and
 * dropped), in the same run, one after the other.
 *
 *   npx tsx bench/artifact-compression.ts        BENCH_MB=300 BENCH_ROUNDS=2
 *
 * - random: BENCH_MB of random bytes (the worst case: nothing to gain, all to pay);
 * - debian: the first BENCH_MB of a tar of /usr from the kiln/bookworm-build image
 *   (compilers, shared libraries, headers, documentation: what packages install).
 *
 * Candidates: gzip in one stream (Node's zlib, as Kiln packed before), gzip cut
 * in 1 MiB members compressed on every core (Kiln's .tar.gz), and the `zstd`
 * program on every core. Speed is input MB per second of wall time (the best of
 * the rounds: the machine is shared), size is the output against gzip -6's.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
// Kiln's own block-parallel gzip, as the engine uses it (not part of @kiln/agent's interface).
import { createParallelGzip } from '../packages/agent/src/engine/payload/parallel-gzip.js';

const MB = Number(process.env.BENCH_MB ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const IMAGE = 'kiln/bookworm-build:latest';

interface Candidate {
  name: string;
  run(input: string): Promise<number>;
}

/** Output bytes of `stream` fed from `input`. */
async function through(input: string, stream: Duplex): Promise<number> {
  let bytes = 0;
  const count = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  await pipeline(createReadStream(input, { highWaterMark: 1024 ** 2 }), stream, count);
  return bytes;
}

/** Output bytes of a program reading `input` on stdin. */
function program(command: string, args: string[], input: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`${command} exited ${code}`))));
    createReadStream(input).pipe(child.stdin);
  });
}

const candidates: Candidate[] = [
  { name: 'gzip -6, one stream (before)', run: (f) => through(f, createGzip({ level: 6 })) },
  { name: 'gzip -1, one stream', run: (f) => through(f, createGzip({ level: 1 })) },
  { name: 'gzip -6, 1 MiB members, all cores', run: (f) => through(f, createParallelGzip({ level: 6 })) },
  { name: 'gzip -1, 1 MiB members, all cores', run: (f) => through(f, createParallelGzip({ level: 1 })) },
  { name: 'zstd -1 -T0', run: (f) => program('zstd', ['-q', '-1', '-T0', '-c'], f) },
  { name: 'zstd -3 -T0', run: (f) => program('zstd', ['-q', '-3', '-T0', '-c'], f) },
  { name: 'zstd -6 -T0', run: (f) => program('zstd', ['-q', '-6', '-T0', '-c'], f) },
];

async function writeRandom(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  for (let left = bytes; left > 0; left -= 1024 ** 2) {
    if (!out.write(randomBytes(Math.min(left, 1024 ** 2))))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The first `bytes` of a tar of the image's /usr. */
async function writeDebianTar(file: string, bytes: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sh = `id=$(docker create ${IMAGE} true) && docker cp "$id:/usr" - | head -c ${bytes} > '${file}'; s=$?; docker rm -f "$id" >/dev/null; exit $s`;
    const child = spawn('sh', ['-c', sh], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker cp exited ${code}`))));
  });
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-compression-'));
try {
  const inputs = { random: path.join(dir, 'random.bin'), debian: path.join(dir, 'debian.tar') };
  await writeRandom(inputs.random, MB * 1024 ** 2);
  await writeDebianTar(inputs.debian, MB * 1024 ** 2);
  const results: Record<string, Record<string, { seconds: number; bytes: number }>> = {};
  for (const [corpus, file] of Object.entries(inputs)) {
    const size = (await stat(file)).size;
    results[corpus] = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const candidate of candidates) {
        const started = performance.now();
        const bytes = await candidate.run(file);
        const seconds = (performance.now() - started) / 1000;
        const best = results[corpus][candidate.name];
        if (!best || seconds < best.seconds) results[corpus][candidate.name] = { seconds, bytes };
      }
    }
    const reference = results[corpus]['gzip -6, one stream (before)']!.bytes;
    console.log(`\n${corpus}: ${(size / 1024 ** 2).toFixed(0)} MiB, best of ${ROUNDS} rounds`);
    console.log('  candidate                              MiB/s   output MiB   size vs gzip -6');
    for (const [name, r] of Object.entries(results[corpus])) {
      const rate = size / 1024 ** 2 / r.seconds;
      console.log(
        `  ${name.padEnd(38)} ${rate.toFixed(0).padStart(5)}   ${(r.bytes / 1024 ** 2).toFixed(1).padStart(10)}   ${((r.bytes / reference) * 100).toFixed(1).padStart(6)}%`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
