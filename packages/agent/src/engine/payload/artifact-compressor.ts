import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactFormat } from '@kiln/shared';
import { createParallelGzip } from './parallel-gzip.js';

/**
 * Levels chosen by measurement (bench/artifact-compression.ts, on random
 * bytes and on a Debian system's /usr): zstd -3 packs real payloads smaller
 * than gzip -6 at several times the speed of gzip -1, and passes random
 * bytes through at disk speed. gzip -1 on every core is the fastest gzip;
 * -6 costs about twice the time for a few percent.
 */
export const ZSTD_LEVEL = 3;
export const GZIP_LEVEL = 1;
const STDERR_KEPT = 4096;

/** A compression in `format`: started on a tar stream, it gives the compressed bytes. */
export interface Compressor {
  readonly format: ArtifactFormat;
  /** `finished` settles when all of `tar` was taken and compressed; rejects when that failed. */
  compress(tar: Readable): { output: Readable; finished: Promise<void> };
  /** Stops it (on a failure elsewhere). */
  stop(): void;
}

let zstdFound: Promise<boolean> | null = null;

/** Whether this host has the `zstd` program (asked once per process). */
export function hasZstd(): Promise<boolean> {
  zstdFound ??= new Promise((resolve) => {
    const child = spawn('zstd', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
  return zstdFound;
}

/**
 * A compressor for `format`: zstd as a separate process on every core (the
 * `zstd` program: Node 20's zlib has no zstd), gzip on libuv's threads.
 * Either way the compression runs beside the thread that reads and hashes.
 */
export function createCompressor(format: ArtifactFormat): Compressor {
  return format === 'tar.gz' ? gzipCompressor() : zstdCompressor();
}

function gzipCompressor(): Compressor {
  const gzip = createParallelGzip({ level: GZIP_LEVEL });
  return {
    format: 'tar.gz',
    compress: (tar) => ({ output: gzip, finished: pipeline(tar, gzip) }),
    stop: () => gzip.destroy(),
  };
}

function zstdCompressor(): Compressor {
  let child: ChildProcessByStdio<Writable, Readable, Readable> | null = null;
  return {
    format: 'tar.zst',
    compress(tar) {
      const zstd = spawn('zstd', ['-q', `-${ZSTD_LEVEL}`, '-T0', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
      child = zstd;
      let stderr = '';
      zstd.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < STDERR_KEPT) stderr += chunk.toString('utf8');
      });
      const exited = new Promise<void>((resolve, reject) => {
        zstd.on('error', (err) => reject(new Error(`cannot run zstd: ${err.message}`, { cause: err })));
        zstd.on('close', (code, signal) => {
          if (code === 0) resolve();
          else reject(new Error(`zstd ${signal ? `was killed (${signal})` : `exited ${code}`}: ${stderr.trim()}`));
        });
      });
      const finished = Promise.all([pipeline(tar, zstd.stdin), exited]).then(() => undefined);
      return { output: zstd.stdout, finished };
    },
    stop: () => child?.kill('SIGKILL'),
  };
}
