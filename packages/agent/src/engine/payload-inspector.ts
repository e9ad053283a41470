import { open } from 'node:fs/promises';
import type { InstalledFile } from '@kiln/shared';
import { readElf, type ByteSource } from './elf-reader.js';
import { classifyFile } from './file-kind.js';
import type { PayloadEntry } from './payload-collector.js';

const HEAD_BYTES = 64;

/** The report's view of a payload: every file and symlink (directories are implied), with kinds and ELF linkage. */
export async function inspectPayload(
  entries: readonly PayloadEntry[],
): Promise<{ files: InstalledFile[]; sizeBytes: number }> {
  const files: InstalledFile[] = [];
  for (const entry of entries) {
    if (entry.type === 'directory' || entry.type === 'special') continue;
    const mode = entry.mode.toString(8).padStart(4, '0');
    if (entry.type === 'symlink') {
      files.push({ path: entry.path, size: entry.size, mode, kind: 'symlink', target: entry.target ?? '' });
      continue;
    }
    const { head, elf } = await readHeaders(entry);
    const kind = classifyFile({ path: entry.path, mode: entry.mode, head, elf });
    files.push({
      path: entry.path,
      size: entry.size,
      mode,
      ...(entry.sha256 ? { sha256: entry.sha256 } : {}),
      kind: kind.kind,
      ...(kind.linkage ? { linkage: kind.linkage } : {}),
      ...(kind.needed ? { needed: kind.needed } : {}),
      ...(elf?.soname ? { soname: elf.soname } : {}),
    });
  }
  return { files, sizeBytes: files.reduce((sum, f) => sum + f.size, 0) };
}

async function readHeaders(entry: PayloadEntry): Promise<{ head: Buffer; elf: Awaited<ReturnType<typeof readElf>> }> {
  if (!entry.staged || entry.size === 0) return { head: Buffer.alloc(0), elf: null };
  const handle = await open(entry.staged, 'r');
  try {
    const source: ByteSource = {
      size: entry.size,
      async read(offset, length) {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, entry.size - offset)));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        return buffer.subarray(0, bytesRead);
      },
    };
    const head = await source.read(0, HEAD_BYTES);
    // A malformed ELF file is still a file: it is reported as what its name and bytes say, not as an error.
    const elf = await readElf(source).catch(() => null);
    return { head, elf };
  } finally {
    await handle.close();
  }
}
