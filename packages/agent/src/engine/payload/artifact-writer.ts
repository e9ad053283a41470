import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
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
const PACK_BUFFER = 4 * 1024 ** 2;
/** Bytes of a file gathered into one write. */
const WRITE_BYTES = 1024 ** 2;

/**
 * Writes the payload as a compressed tar while it streams past (paths
 * relative to /, as installed), with the sha256 of the file written. Written
 * under a temporary name and renamed, so a reader never sees half an artifact.
 */
export class ArtifactWriter {
  private readonly archive: Pack = pack({ highWaterMark: PACK_BUFFER });
  private readonly partial: string;
  private readonly written: Promise<string | null>;

  private constructor(
    private readonly file: string,
    private readonly compressor: Compressor,
  ) {
    this.partial = `${file}.partial`;
    // streamx's Readable (tar-stream's) works with Node's pipeline; its types are its own.
    this.written = compressor.compress(this.archive as unknown as Readable, this.partial);
    this.written.catch(() => undefined);
  }

  static async open(file: string, format: ArtifactFormat): Promise<ArtifactWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    return new ArtifactWriter(file, createCompressor(format));
  }

  get format(): ArtifactFormat {
    return this.compressor.format;
  }

  /**
   * A file's entry: exactly `size` bytes must be written to it. Chunks are
   * gathered into writes of WRITE_BYTES: Docker's archive comes in pieces of
   * about 23 KiB, and each write costs a wake-up of the compressor.
   */
  fileEntry(header: EntryHeader & { size: number }): FileEntry {
    let sink: Sink | undefined;
    const done = new Promise<void>((resolve, reject) => {
      sink = this.archive.entry({ ...header, type: 'file' }, (err) => (err ? reject(err) : resolve()));
    });
    done.catch(() => undefined);
    const entry = sink!;
    let parts: Buffer[] = [];
    let gathered = 0;
    const flush = (): Promise<void> | undefined => {
      if (gathered === 0) return undefined;
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, gathered);
      parts = [];
      gathered = 0;
      return entry.write(data) ? undefined : drained(entry);
    };
    return {
      write: (chunk) => {
        parts.push(chunk);
        gathered += chunk.length;
        return gathered >= WRITE_BYTES ? flush() : undefined;
      },
      end: async () => {
        await flush();
        entry.end(undefined);
        await done;
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
    let sha256: string;
    try {
      this.archive.finalize();
      sha256 = (await this.written) ?? (await sha256Of(this.partial));
      await rename(this.partial, this.file);
    } catch (err) {
      await this.abort();
      throw new Error(`cannot write the artifact ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    const { size } = await stat(this.file);
    return { path: this.file, sha256, sizeBytes: size, format: this.format };
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

/** The sha256 of a file just written (read back from the page cache). */
async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 ** 2 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
