import type { ElfFacts, FileKind } from '@kiln/shared';
import type { ElfInfo } from '../elf-reader.js';

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

/**
 * The facts DESIGN.md names per file ("ELF facts per file"), for an installed
 * regular file: its SONAME, RUNPATH (or the older RPATH), how it was hardened,
 * whether it was stripped, its build-id, and its setuid/setgid bits (any file).
 * Any ELF file gets its machine; only executables and shared libraries get the other ELF facts; `pie` only executables
 * (a shared library is position-independent by nature).
 */
export function elfFacts(kind: FileKind, elf: ElfInfo | null, mode: number): ElfFacts {
  const facts: ElfFacts = {};
  if ((mode & S_ISUID) !== 0) facts.setuid = true;
  if ((mode & S_ISGID) !== 0) facts.setgid = true;
  if (elf) facts.machine = elf.machine;
  if (!elf || (kind !== 'executable' && kind !== 'shared-library')) return facts;
  if (elf.soname) facts.soname = elf.soname;
  const runpath = elf.runpath ?? elf.rpath;
  if (runpath !== undefined) facts.runpath = runpath;
  if (kind === 'executable') facts.pie = elf.type === 'dynamic';
  facts.relro = !elf.relro ? 'none' : elf.bindNow ? 'full' : 'partial';
  facts.bindNow = elf.bindNow;
  facts.nxStack = elf.nxStack;
  if (elf.symbols !== null) facts.stripped = !elf.symbols;
  if (elf.buildId) facts.buildId = elf.buildId;
  return facts;
}
