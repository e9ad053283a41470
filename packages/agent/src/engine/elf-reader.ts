import { cString, ElfBytes, inFile } from './elf-bytes.js';
import { gnuBuildId } from './elf-notes.js';
import { elfMachineName } from './inspect/elf-machine.js';

/**
 * A small reader of ELF headers: enough to tell an executable from a shared
 * library, static from dynamic linkage, to list the libraries a file needs
 * (DT_NEEDED), and to read how it was hardened (RELRO, BIND_NOW, stack) and
 * whether it still has its symbols. Files come from untrusted builds, so
 * every offset and count is checked against the file and against sane limits.
 */
export interface ElfInfo {
  bits: 32 | 64;
  /** e_machine, named (`x86-64`, `aarch64`, …; see inspect/elf-machine.ts). */
  machine: string;
  /** ET_EXEC, ET_DYN (PIE executables and shared libraries), ET_REL (.o), ET_CORE. */
  type: 'executable' | 'dynamic' | 'relocatable' | 'core' | 'other';
  interpreter?: string;
  /** True when a PT_DYNAMIC segment is present. */
  hasDynamic: boolean;
  needed: string[];
  soname?: string;
  /** DF_1_PIE is set: a position-independent executable (also static-pie). */
  pie: boolean;
  /** DT_RUNPATH and DT_RPATH, as written (colon-separated). */
  runpath?: string;
  rpath?: string;
  /** A PT_GNU_RELRO segment is present. */
  relro: boolean;
  /** DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW: every symbol bound at load time. */
  bindNow: boolean;
  /** A PT_GNU_STACK segment without the execute flag. */
  nxStack: boolean;
  /** A symbol table section (SHT_SYMTAB) is present; null when section headers could not be read. */
  symbols: boolean | null;
  /** The GNU build-id, hex. */
  buildId?: string;
}

/** Random access to a file's bytes (a file handle, or a buffer in tests). */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const PT_GNU_STACK = 0x6474e551;
const PT_GNU_RELRO = 0x6474e552;
const PF_X = 1;
const SHT_SYMTAB = 2;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;
const DT_RPATH = 15n;
const DT_BIND_NOW = 24n;
const DT_FLAGS = 30n;
const DT_RUNPATH = 29n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DF_BIND_NOW = 0x8n;
const DF_1_NOW = 0x1n;
const DF_1_PIE = 0x08000000n;
const MAX_PROGRAM_HEADERS = 4096;
const MAX_DYNAMIC_ENTRIES = 8192;
const MAX_STRTAB = 4 * 1024 * 1024;
const MAX_INTERP = 4096;
const MAX_NOTE = 64 * 1024;

export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/** Reads an ELF file's headers; null when it is not ELF or is malformed. */
export async function readElf(source: ByteSource): Promise<ElfInfo | null> {
  if (source.size < 52) return null;
  const ident = await source.read(0, 64);
  if (!isElf(ident)) return null;
  const bits = ident[4] === 1 ? 32 : ident[4] === 2 ? 64 : null;
  const little = ident[5] === 1 ? true : ident[5] === 2 ? false : null;
  if (bits === null || little === null || ident.length < (bits === 64 ? 64 : 52)) return null;
  const r = new ElfBytes(ident, little);
  const eType = r.u16(16);
  const machine = elfMachineName(r.u16(18), bits);
  const phoff = bits === 64 ? r.u64(32) : r.u32(28);
  const phentsize = r.u16(bits === 64 ? 54 : 42);
  const phnum = r.u16(bits === 64 ? 56 : 44);
  // Section headers sit at the end of a file: asked for now, they are collected as a stream passes them.
  const symbols = hasSymbolTable(source, r, bits, little);
  const info: ElfInfo = {
    bits,
    machine,
    type: elfType(eType),
    hasDynamic: false,
    needed: [],
    pie: false,
    relro: false,
    bindNow: false,
    nxStack: false,
    symbols: null,
  };
  try {
    if (phnum === 0) return info;
    const minEntry = bits === 64 ? 56 : 32;
    if (phentsize < minEntry || phnum > MAX_PROGRAM_HEADERS || !inFile(source, phoff, phentsize * phnum)) return null;
    const table = new ElfBytes(await source.read(phoff, phentsize * phnum), little);
    await readSegments(source, info, table, phentsize, little);
    return info;
  } finally {
    info.symbols = await symbols;
  }
}

async function readSegments(
  source: ByteSource,
  info: ElfInfo,
  table: ElfBytes,
  phentsize: number,
  little: boolean,
): Promise<void> {
  const { bits } = info;
  const loads: Array<{ vaddr: number; offset: number; filesz: number }> = [];
  const notes: Array<Promise<string | undefined>> = [];
  let dynamic: { offset: number; size: number } | null = null;
  let interp: { offset: number; size: number } | null = null;
  for (let i = 0; i < Math.floor(table.buffer.length / phentsize); i++) {
    const at = i * phentsize;
    const type = table.u32(at);
    const flags = bits === 64 ? table.u32(at + 4) : table.u32(at + 24);
    const offset = bits === 64 ? table.u64(at + 8) : table.u32(at + 4);
    const vaddr = bits === 64 ? table.u64(at + 16) : table.u32(at + 8);
    const filesz = bits === 64 ? table.u64(at + 32) : table.u32(at + 16);
    const align = bits === 64 ? table.u64(at + 48) : table.u32(at + 28);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
    else if (type === PT_INTERP) interp = { offset, size: filesz };
    else if (type === PT_GNU_RELRO) info.relro = true;
    else if (type === PT_GNU_STACK) info.nxStack = (flags & PF_X) === 0;
    else if (type === PT_NOTE && filesz > 0 && filesz <= MAX_NOTE && inFile(source, offset, filesz)) {
      // A note the stream has already let go of is no build-id, not a broken file.
      notes.push(
        source.read(offset, filesz).then(
          (b) => gnuBuildId(b, little, align),
          () => undefined,
        ),
      );
    }
  }
  const settle = async () => {
    for (const note of notes) info.buildId ??= await note;
  };
  if (interp && interp.size > 0 && interp.size <= MAX_INTERP && inFile(source, interp.offset, interp.size)) {
    info.interpreter = cString(await source.read(interp.offset, interp.size), 0);
  }
  if (!dynamic || !inFile(source, dynamic.offset, dynamic.size)) return settle();
  info.hasDynamic = true;
  await readDynamic(source, info, dynamic, loads, little);
  return settle();
}

async function readDynamic(
  source: ByteSource,
  info: ElfInfo,
  dynamic: { offset: number; size: number },
  loads: Array<{ vaddr: number; offset: number; filesz: number }>,
  little: boolean,
): Promise<void> {
  const { bits } = info;
  const entrySize = bits === 64 ? 16 : 8;
  const count = Math.min(Math.floor(dynamic.size / entrySize), MAX_DYNAMIC_ENTRIES);
  const dyn = new ElfBytes(await source.read(dynamic.offset, count * entrySize), little);
  const neededAt: bigint[] = [];
  const at: { soname?: bigint; runpath?: bigint; rpath?: bigint } = {};
  let strtab: bigint | null = null;
  let strsz = 0n;
  for (let i = 0; i < count && (i + 1) * entrySize <= dyn.buffer.length; i++) {
    const tag = bits === 64 ? dyn.i64(i * 16) : BigInt(dyn.i32(i * 8));
    const value = bits === 64 ? dyn.big64(i * 16 + 8) : BigInt(dyn.u32(i * 8 + 4));
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) neededAt.push(value);
    else if (tag === DT_SONAME) at.soname = value;
    else if (tag === DT_RUNPATH) at.runpath = value;
    else if (tag === DT_RPATH) at.rpath = value;
    else if (tag === DT_STRTAB) strtab = value;
    else if (tag === DT_STRSZ) strsz = value;
    else if (tag === DT_BIND_NOW) info.bindNow = true;
    else if (tag === DT_FLAGS && (value & DF_BIND_NOW) !== 0n) info.bindNow = true;
    else if (tag === DT_FLAGS_1) {
      info.pie = (value & DF_1_PIE) !== 0n;
      if ((value & DF_1_NOW) !== 0n) info.bindNow = true;
    }
  }
  if (strtab === null || (neededAt.length === 0 && Object.keys(at).length === 0)) return;
  // DT_STRTAB is an address in memory: find the loaded segment that holds it.
  const address = Number(strtab);
  const segment = loads.find((l) => address >= l.vaddr && address < l.vaddr + l.filesz);
  if (!segment) return;
  const offset = address - segment.vaddr + segment.offset;
  const size = Math.min(
    Number(strsz) || MAX_STRTAB,
    MAX_STRTAB,
    source.size - offset,
    segment.offset + segment.filesz - offset,
  );
  if (size <= 0) return;
  const strings = await source.read(offset, size);
  info.needed = neededAt.map((n) => cString(strings, Number(n))).filter((s): s is string => Boolean(s));
  if (at.soname !== undefined) info.soname = cString(strings, Number(at.soname)) || undefined;
  if (at.runpath !== undefined) info.runpath = cString(strings, Number(at.runpath)) || undefined;
  if (at.rpath !== undefined) info.rpath = cString(strings, Number(at.rpath)) || undefined;
}

/** Whether the section headers name a symbol table; null when there are none to read or they are out of reach. */
async function hasSymbolTable(
  source: ByteSource,
  r: ElfBytes,
  bits: 32 | 64,
  little: boolean,
): Promise<boolean | null> {
  const shoff = bits === 64 ? r.u64(40) : r.u32(32);
  const shentsize = r.u16(bits === 64 ? 58 : 46);
  const shnum = r.u16(bits === 64 ? 60 : 48);
  if (shoff === 0 || shnum === 0) return false;
  if (shentsize < (bits === 64 ? 64 : 40) || !inFile(source, shoff, shentsize * shnum)) return null;
  try {
    const table = new ElfBytes(await source.read(shoff, shentsize * shnum), little);
    if (table.buffer.length < shentsize * shnum) return null;
    for (let i = 0; i < shnum; i++) if (table.u32(i * shentsize + 4) === SHT_SYMTAB) return true;
    return false;
  } catch {
    return null;
  }
}

function elfType(value: number): ElfInfo['type'] {
  return value === 2
    ? 'executable'
    : value === 3
      ? 'dynamic'
      : value === 1
        ? 'relocatable'
        : value === 4
          ? 'core'
          : 'other';
}
