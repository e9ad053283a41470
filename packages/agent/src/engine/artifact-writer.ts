import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import type { PayloadEntry } from './payload-collector.js';

export interface Artifact {
  path: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * Writes the payload as a .tar.gz (paths relative to /, as installed), with
 * the sha256 of the file written. Written under a temporary name and renamed,
 * so a reader never sees half an artifact.
 */
export async function writeArtifact(entries: readonly PayloadEntry[], file: string): Promise<Artifact> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const archive = pack();
  const hash = createHash('sha256');
  const written = pipeline(
    archive,
    createGzip(),
    new Transform({
      transform(chunk: Buffer, _encoding, next) {
        hash.update(chunk);
        next(null, chunk);
      },
    }),
    createWriteStream(partial),
  );
  try {
    for (const entry of entries) {
      const name = entry.path.replace(/^\/+/, '');
      const header = { name, mode: entry.mode, ...(entry.mtime ? { mtime: entry.mtime } : {}) };
      if (entry.type === 'directory') {
        archive.entry({ ...header, type: 'directory' });
      } else if (entry.type === 'symlink') {
        archive.entry({ ...header, type: 'symlink', linkname: entry.target ?? '' });
      } else if (entry.staged) {
        await new Promise<void>((resolve, reject) => {
          const sink = archive.entry({ ...header, type: 'file', size: entry.size }, (err) =>
            err ? reject(err) : resolve(),
          );
          createReadStream(entry.staged!).on('error', reject).pipe(sink);
        });
      }
    }
    archive.finalize();
    await written;
    await rename(partial, file);
  } catch (err) {
    archive.destroy();
    await written.catch(() => undefined);
    await rm(partial, { force: true });
    throw new Error(`cannot write the artifact ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { path: file, sha256: hash.digest('hex'), sizeBytes: (await stat(file)).size };
}
