import type { FileKind } from '@kiln/shared';
import type { ElfInfo } from './elf-reader.js';

export interface Classification {
  kind: FileKind;
  linkage?: 'static' | 'dynamic';
  needed?: string[];
}

const AR_MAGIC = Buffer.from('!<arch>\n');
const THIN_AR_MAGIC = Buffer.from('!<thin>\n');
const SHARED_NAME = /\.so(\.[0-9][0-9A-Za-z.]*)?$/;

/**
 * The kind of an installed regular file, from its path, mode and first bytes
 * (and its ELF headers when it is ELF). Symlinks are classified by the caller.
 */
export function classifyFile(file: { path: string; mode: number; head: Buffer; elf: ElfInfo | null }): Classification {
  const { elf } = file;
  if (file.path.startsWith('/etc/')) return { kind: 'config' };
  if (elf && (elf.type === 'executable' || elf.type === 'dynamic')) {
    const base = file.path.slice(file.path.lastIndexOf('/') + 1);
    // ET_DYN is both a PIE executable and a shared library. An interpreter or
    // the PIE flag says executable, except for a file named like a library:
    // libc.so.6 has an interpreter and is run as a program too.
    const executable =
      elf.type === 'executable' || (!SHARED_NAME.test(base) && (elf.interpreter !== undefined || elf.pie));
    if (!executable) return { kind: 'shared-library', linkage: 'dynamic', needed: elf.needed };
    const dynamic = elf.interpreter !== undefined || elf.needed.length > 0;
    return dynamic
      ? { kind: 'executable', linkage: 'dynamic', needed: elf.needed }
      : { kind: 'executable', linkage: 'static' };
  }
  if (startsWith(file.head, AR_MAGIC) || startsWith(file.head, THIN_AR_MAGIC)) return { kind: 'static-library' };
  // Scripts with an interpreter line and an execute bit are programs too (no linkage: not ELF).
  if ((file.mode & 0o111) !== 0 && startsWith(file.head, Buffer.from('#!'))) return { kind: 'executable' };
  return { kind: 'other' };
}

function startsWith(buffer: Buffer, prefix: Buffer): boolean {
  return buffer.length >= prefix.length && buffer.subarray(0, prefix.length).equals(prefix);
}
