import type { ByteSource } from './elf-reader.js';

/** Reads little- or big-endian integers from one buffer (an ELF table or header). */
export class ElfBytes {
  constructor(
    readonly buffer: Buffer,
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

export function inFile(source: ByteSource, offset: number, length: number): boolean {
  return (
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= source.size
  );
}

export function cString(buffer: Buffer, offset: number): string | undefined {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= buffer.length) return undefined;
  const end = buffer.indexOf(0, offset);
  return buffer.toString('utf8', offset, end < 0 ? buffer.length : end);
}
