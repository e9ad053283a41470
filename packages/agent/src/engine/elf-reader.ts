/**
 * A small reader of ELF headers: enough to tell an executable from a shared
 * library, static from dynamic linkage, and to list the libraries a file
 * needs (DT_NEEDED). Files come from untrusted builds, so every offset and
 * count is checked against the file and against sane limits.
 */
export interface ElfInfo {
  bits: 32 | 64;
  /** ET_EXEC, ET_DYN (PIE executables and shared libraries), ET_REL (.o), ET_CORE. */
  type: 'executable' | 'dynamic' | 'relocatable' | 'core' | 'other';
  interpreter?: string;
  /** True when a PT_DYNAMIC segment is present. */
  hasDynamic: boolean;
  needed: string[];
  soname?: string;
  /** DF_1_PIE is set: a position-independent executable (also static-pie). */
  pie: boolean;
}

/** Random access to a file's bytes (a file handle, or a buffer in tests). */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_SONAME = 14n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DF_1_PIE = 0x08000000n;
const MAX_PROGRAM_HEADERS = 4096;
const MAX_DYNAMIC_ENTRIES = 8192;
const MAX_STRTAB = 4 * 1024 * 1024;
const MAX_INTERP = 4096;

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
  const r = new Reader(ident, little);
  const eType = r.u16(16);
  const phoff = bits === 64 ? r.u64(32) : r.u32(28);
  const phentsize = r.u16(bits === 64 ? 54 : 42);
  const phnum = r.u16(bits === 64 ? 56 : 44);
  const info: ElfInfo = { bits, type: elfType(eType), hasDynamic: false, needed: [], pie: false };
  if (phnum === 0) return info;
  const minEntry = bits === 64 ? 56 : 32;
  if (phentsize < minEntry || phnum > MAX_PROGRAM_HEADERS || !inFile(source, phoff, phentsize * phnum)) return null;

  const table = new Reader(await source.read(phoff, phentsize * phnum), little);
  const loads: Array<{ vaddr: number; offset: number; filesz: number }> = [];
  let dynamic: { offset: number; size: number } | null = null;
  let interp: { offset: number; size: number } | null = null;
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    const type = table.u32(at);
    const offset = bits === 64 ? table.u64(at + 8) : table.u32(at + 4);
    const vaddr = bits === 64 ? table.u64(at + 16) : table.u32(at + 8);
    const filesz = bits === 64 ? table.u64(at + 32) : table.u32(at + 16);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
    else if (type === PT_INTERP) interp = { offset, size: filesz };
  }
  if (interp && interp.size > 0 && interp.size <= MAX_INTERP && inFile(source, interp.offset, interp.size)) {
    info.interpreter = cString(await source.read(interp.offset, interp.size), 0);
  }
  if (!dynamic || !inFile(source, dynamic.offset, dynamic.size)) return info;
  info.hasDynamic = true;

  const entrySize = bits === 64 ? 16 : 8;
  const count = Math.min(Math.floor(dynamic.size / entrySize), MAX_DYNAMIC_ENTRIES);
  const dyn = new Reader(await source.read(dynamic.offset, count * entrySize), little);
  const neededAt: bigint[] = [];
  let sonameAt: bigint | null = null;
  let strtab: bigint | null = null;
  let strsz = 0n;
  for (let i = 0; i < count; i++) {
    const tag = bits === 64 ? dyn.i64(i * 16) : BigInt(dyn.i32(i * 8));
    const value = bits === 64 ? dyn.big64(i * 16 + 8) : BigInt(dyn.u32(i * 8 + 4));
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) neededAt.push(value);
    else if (tag === DT_SONAME) sonameAt = value;
    else if (tag === DT_STRTAB) strtab = value;
    else if (tag === DT_STRSZ) strsz = value;
    else if (tag === DT_FLAGS_1) info.pie = (value & DF_1_PIE) !== 0n;
  }
  if (strtab === null || (neededAt.length === 0 && sonameAt === null)) return info;
  // DT_STRTAB is an address in memory: find the loaded segment that holds it.
  const address = Number(strtab);
  const segment = loads.find((l) => address >= l.vaddr && address < l.vaddr + l.filesz);
  if (!segment) return info;
  const offset = address - segment.vaddr + segment.offset;
  const size = Math.min(
    Number(strsz) || MAX_STRTAB,
    MAX_STRTAB,
    source.size - offset,
    segment.offset + segment.filesz - offset,
  );
  if (size <= 0) return info;
  const strings = await source.read(offset, size);
  info.needed = neededAt.map((at) => cString(strings, Number(at))).filter((s): s is string => Boolean(s));
  if (sonameAt !== null) info.soname = cString(strings, Number(sonameAt)) ?? undefined;
  return info;
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

function inFile(source: ByteSource, offset: number, length: number): boolean {
  return (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= source.size
  );
}

function cString(buffer: Buffer, offset: number): string | undefined {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= buffer.length) return undefined;
  const end = buffer.indexOf(0, offset);
  return buffer.toString('utf8', offset, end < 0 ? buffer.length : end);
}

class Reader {
  constructor(
    private readonly buffer: Buffer,
    private readonly little: boolean,
  ) {}
  u16(at: number): number {
    return this.little ? this.buffer.readUInt16LE(at) : this.buffer.readUInt16BE(at);
  }
  u32(at: number): number {
    return this.little ? this.buffer.readUInt32LE(at) : this.buffer.readUInt32BE(at);
  }
  i32(at: number): number {
    return this.little ? this.buffer.readInt32LE(at) : this.buffer.readInt32BE(at);
  }
  big64(at: number): bigint {
    return this.little ? this.buffer.readBigUInt64LE(at) : this.buffer.readBigUInt64BE(at);
  }
  i64(at: number): bigint {
    return this.little ? this.buffer.readBigInt64LE(at) : this.buffer.readBigInt64BE(at);
  }
  /** Offsets and sizes beyond 2^53 cannot be in a real file: they become NaN and fail the bounds checks. */
  u64(at: number): number {
    const value = this.big64(at);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(value);
  }
}
