import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ArtifactFormat } from '@kiln/shared';
import { createParallelGzip } from './parallel-gzip.js';

/**
 * Levels chosen by measurement (bench/artifact-compression.ts, 300 MiB of a
 * Debian /usr and of random bytes, on the project's shared 2-core machine):
 * zstd -3 packed /usr to 92% of gzip -6's size at 105 MiB/s, against 27 MiB/s
 * for gzip -6 (Kiln's former packing) and 58 MiB/s for gzip -1, and passed
 * random bytes at 190 MiB/s against about 30 for any gzip; zstd -1 was faster
 * on /usr (140 MiB/s) but larger than gzip -6. For .tar.gz, level 1 in
 * members on every core: twice the speed of level 6 for 9% more size.
 */
export const ZSTD_LEVEL = 3;
export const GZIP_LEVEL = 1;
const STDERR_KEPT = 4096;
/**
 * The tar stream is handed to zstd in writes of this size: it comes as
 * pieces of a header, a file's bytes (Docker's ~23 KiB reads) and padding,
 * and each write to the pipe wakes the compressor (60,000 writes for 30,000
 * small files cost seconds of the main thread).
 */
const GATHER_BYTES = 1024 ** 2;

/** A compression in `format`, writing the artifact file itself. */
export interface Compressor {
  readonly format: ArtifactFormat;
  /**
   * Compresses all of `tar` into `file`; resolves when it is written, with the
   * file's sha256 when the compressed bytes passed through here, else null.
   */
  compress(tar: Readable, file: string): Promise<string | null>;
  /** Stops it (on a failure elsewhere). */
  stop(): void;
}

let zstdFound: Promise<boolean> | null = null;

/** Whether this host has the `zstd` program (asked once per process). */
export function hasZstd(): Promise<boolean> {
  zstdFound ??= new Promise((resolve) => {
    // env given explicitly: the PATH of the caller's process object (a test's sandbox has its own).
    const child = spawn('zstd', ['--version'], { stdio: 'ignore', env: process.env });
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
    async compress(tar, file) {
      const hash = createHash('sha256');
      const tap = async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          yield chunk;
        }
      };
      await pipeline(tar, gzip, tap, createWriteStream(file));
      return hash.digest('hex');
    },
    stop: () => gzip.destroy(),
  };
}

function zstdCompressor(): Compressor {
  let child: ChildProcessByStdio<Writable, null, Readable> | null = null;
  return {
    format: 'tar.zst',
    async compress(tar, file) {
      // zstd writes the file itself: the compressed bytes never pass through Node's thread.
      const out = await open(file, 'w');
      let zstd: ChildProcessByStdio<Writable, null, Readable>;
      try {
        zstd = spawn('zstd', ['-q', `-${ZSTD_LEVEL}`, '-T0', '-c'], {
          stdio: ['pipe', out.fd, 'pipe'],
        }) as ChildProcessByStdio<Writable, null, Readable>;
      } finally {
        // The child has its own copy of the descriptor.
        await out.close();
      }
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
      exited.catch(() => undefined);
      await Promise.all([feed(tar, zstd.stdin), exited]);
      return null;
    },
    stop: () => child?.kill('SIGKILL'),
  };
}

/** Writes all of `tar` to `sink` in writes of GATHER_BYTES, then ends it. */
async function feed(tar: Readable, sink: Writable): Promise<void> {
  let parts: Buffer[] = [];
  let size = 0;
  const write = async (data: Buffer) => {
    // once() rejects when the sink fails instead of draining.
    if (!sink.write(data)) await once(sink, 'drain');
  };
  try {
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size < GATHER_BYTES) continue;
      const data = Buffer.concat(parts, size);
      parts = [];
      size = 0;
      await write(data);
    }
    if (size > 0) await write(Buffer.concat(parts, size));
  } catch (err) {
    sink.destroy(err as Error);
    throw err;
  }
  sink.end();
  await finished(sink);
}
