import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Header, type Pack } from 'tar-stream';
import type { ArtifactFormat } from '@kiln/shared';
import { createCompressor, type Compressor } from './artifact-compressor.js';

export interface Artifact {
  path: string;
  sha256: string;
  sizeBytes: number;
  format: ArtifactFormat;
}

type EntryHeader = Pick<Header, 'name' | 'mode'> & Partial<Pick<Header, 'mtime'>>;
type Sink = ReturnType<Pack['entry']>;

/** A file's entry being written: `write` each chunk (awaiting what it returns), then `end`. */
export interface FileEntry {
  write(chunk: Buffer): Promise<void> | undefined;
  end(): Promise<void>;
}

/** Bytes the tar stream buffers ahead of the compressor. */
const PACK_BUFFER = 1024 ** 2;

/**
 * Writes the payload as a compressed tar while it streams past (paths
 * relative to /, as installed), with the sha256 of the file written. Written
 * under a temporary name and renamed, so a reader never sees half an artifact.
 */
export class ArtifactWriter {
  private readonly archive: Pack = pack({ highWaterMark: PACK_BUFFER });
  private readonly hash = createHash('sha256');
  private readonly partial: string;
  private readonly written: Promise<unknown>;

  private constructor(
    private readonly file: string,
    private readonly compressor: Compressor,
  ) {
    this.partial = `${file}.partial`;
    const hash = this.hash;
    const tap = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    };
    const out = createWriteStream(this.partial);
    // streamx's Readable (tar-stream's) works with Node's pipeline; its types are its own.
    const archive = this.archive as unknown as Readable;
    const { output, finished } = compressor.compress(archive);
    this.written = Promise.all([finished, pipeline(output, tap, out)]);
    this.written.catch(() => undefined);
  }

  static async open(file: string, format: ArtifactFormat): Promise<ArtifactWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    return new ArtifactWriter(file, createCompressor(format));
  }

  get format(): ArtifactFormat {
    return this.compressor.format;
  }

  /** A file's entry: exactly `size` bytes must be written to it. */
  fileEntry(header: EntryHeader & { size: number }): FileEntry {
    let sink: Sink | undefined;
    const done = new Promise<void>((resolve, reject) => {
      sink = this.archive.entry({ ...header, type: 'file' }, (err) => (err ? reject(err) : resolve()));
    });
    done.catch(() => undefined);
    const entry = sink!;
    return {
      write: (chunk) => (entry.write(chunk) ? undefined : drained(entry)),
      end: () => {
        entry.end(undefined);
        return done;
      },
    };
  }

  directory(header: EntryHeader): void {
    this.archive.entry({ ...header, type: 'directory' });
  }

  symlink(header: EntryHeader, target: string): void {
    this.archive.entry({ ...header, type: 'symlink', linkname: target });
  }

  /** A hard link to an entry written earlier (`target` is its name in the artifact). */
  hardLink(header: EntryHeader, target: string): void {
    this.archive.entry({ ...header, type: 'link', linkname: target });
  }

  async finish(): Promise<Artifact> {
    try {
      this.archive.finalize();
      await this.written;
      await rename(this.partial, this.file);
    } catch (err) {
      await this.abort();
      throw new Error(`cannot write the artifact ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    const { size } = await stat(this.file);
    return { path: this.file, sha256: this.hash.digest('hex'), sizeBytes: size, format: this.format };
  }

  /** Stops writing and removes what was written. */
  async abort(): Promise<void> {
    this.archive.destroy();
    this.compressor.stop();
    await this.written.catch(() => undefined);
    await rm(this.partial, { force: true });
  }
}

/** Waits until the entry takes more; its failure or closing ends the wait too. */
function drained(sink: Sink): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      sink.off('drain', onDrain);
      sink.off('error', done);
      sink.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the artifact stream closed while a file was written to it'));
    sink.on('drain', onDrain);
    sink.on('error', done);
    sink.on('close', onClose);
  });
}
