import { createHash } from 'node:crypto';
import { isElf, readElf, type ElfInfo } from '../elf-reader.js';
import { StreamedBytes } from './streamed-bytes.js';

/** Bytes of a file's start kept for its kind (magic numbers, `#!`). */
const HEAD_BYTES = 64;
/**
 * Bytes of an ELF file's start kept while it streams past. The ELF reader
 * reads backwards once: from the dynamic section (met as it passes) to the
 * string table it points at, which linkers place near the start, after the
 * symbol table. 32 MiB covers that in libraries with hundreds of thousands
 * of symbols; only one file streams at a time, so memory stays bounded.
 */
const ELF_KEEP_BYTES = 32 * 1024 ** 2;

export interface ScannedFile {
  sha256: string;
  size: number;
  head: Buffer;
  elf: ElfInfo | null;
}

/** Takes a chunk on; returns a promise to wait for when it cannot take more yet. */
export type ChunkWriter = (chunk: Buffer) => Promise<void> | undefined;

/**
 * Reads a file's content once as it streams by: hashes it, keeps its first
 * bytes, reads its ELF headers on the way, and passes every chunk on to
 * `write` (the artifact's tar entry), waiting when it is behind.
 */
export async function scanFile(
  content: AsyncIterable<unknown>,
  size: number,
  write: ChunkWriter | null,
  onBytes: (bytes: number) => void,
): Promise<ScannedFile> {
  const hash = createHash('sha256');
  const bytes = new StreamedBytes(size, ELF_KEEP_BYTES);
  let elf: Promise<ElfInfo | null> | null = null;
  const probe = () => {
    if (!isElf(bytes.head(4))) {
      bytes.keepOnly(HEAD_BYTES);
      return Promise.resolve(null);
    }
    // A malformed ELF file is still a file: it is reported as what its name and bytes say.
    return readElf(bytes).catch(() => null);
  };
  let total = 0;
  for await (const data of content) {
    const chunk = data as Buffer;
    hash.update(chunk);
    bytes.push(chunk);
    total += chunk.length;
    if (elf === null && bytes.passed >= 4) elf = probe();
    const wait = write?.(chunk);
    if (wait) await wait;
    onBytes(chunk.length);
  }
  bytes.end();
  if (elf === null) elf = probe();
  const info = await elf;
  return {
    sha256: hash.digest('hex'),
    size: total,
    head: bytes.head(HEAD_BYTES),
    elf: info,
  };
}
