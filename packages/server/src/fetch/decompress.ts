import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import type { ArtifactFormat } from '@kiln/shared';

// The first bytes of each format: gzip's member header, zstd's frame magic (0xFD2FB528, little-endian).
const MAGIC: Array<[ArtifactFormat, Buffer]> = [
  ['tar.gz', Buffer.from([0x1f, 0x8b])],
  ['tar.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
];

/** The format an artifact file's first bytes say, or null when they are neither gzip nor zstd. */
export async function sniffArtifactFormat(file: string): Promise<ArtifactFormat | null> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return (
      MAGIC.find(([, magic]) => bytesRead >= magic.length && head.subarray(0, magic.length).equals(magic))?.[0] ?? null
    );
  } finally {
    await handle.close();
  }
}

/**
 * A stream that decompresses `format` into the tar it holds. zstd is decoded
 * in JavaScript (fzstd): Node 20's zlib has none, and a package manager should
 * not need the `zstd` program to install a package.
 */
export function createDecompressor(format: ArtifactFormat): Transform {
  if (format === 'tar.gz') return createGunzip();
  // The decoder may reuse its window for the next block: each chunk is copied out.
  const decoder = new Decompress((data) => {
    stream.push(Buffer.from(data));
  });
  const stream: Transform = new Transform({
    transform(chunk: Buffer, _encoding, next) {
      try {
        decoder.push(chunk);
        next();
      } catch (err) {
        next(new Error(`not valid zstd data: ${(err as Error).message}`, { cause: err }));
      }
    },
    flush(next) {
      try {
        decoder.push(new Uint8Array(0), true);
        next();
      } catch (err) {
        next(new Error(`the zstd data ends too early: ${(err as Error).message}`, { cause: err }));
      }
    },
  });
  return stream;
}
