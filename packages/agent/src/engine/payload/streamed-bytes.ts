import type { ByteSource } from '../elf-reader.js';

interface Wanted {
  offset: number;
  buffer: Buffer;
  filled: number;
  resolve(bytes: Buffer): void;
}

/**
 * A file's bytes as they stream past once, for a reader that asks for ranges
 * (the ELF reader): the first `keep` bytes are kept, and a range asked for
 * ahead of the stream is collected as it passes. A range that has already
 * passed beyond what was kept cannot be had: read() rejects. When the stream
 * ends, every open request gets what there was.
 */
export class StreamedBytes implements ByteSource {
  private position = 0;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private wanted: Wanted[] = [];
  private ended = false;

  constructor(
    readonly size: number,
    private keep: number,
  ) {}

  /** Bytes passed so far. */
  get passed(): number {
    return this.position;
  }

  /** From now on keep only the first `bytes` (what is kept beyond them is let go). */
  keepOnly(bytes: number): void {
    this.keep = bytes;
    if (this.keptBytes <= bytes) return;
    const head = this.copy(0, bytes);
    this.kept.length = 0;
    this.kept.push(head);
    this.keptBytes = head.length;
  }

  /** The first `length` bytes, as far as they have passed. */
  head(length: number): Buffer {
    return this.copy(0, Math.min(length, this.keptBytes));
  }

  push(chunk: Buffer): void {
    const start = this.position;
    const end = start + chunk.length;
    if (this.keptBytes === start && this.keptBytes < this.keep) {
      const part = chunk.subarray(0, this.keep - this.keptBytes);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    this.position = end;
    if (this.wanted.length === 0) return;
    for (const want of this.wanted) {
      const from = Math.max(want.offset + want.filled, start);
      const to = Math.min(want.offset + want.buffer.length, end);
      if (to > from) want.filled += chunk.copy(want.buffer, from - want.offset, from - start, to - start);
    }
    this.settle(false);
  }

  end(): void {
    this.ended = true;
    this.settle(true);
  }

  read(offset: number, length: number): Promise<Buffer> {
    const size = Math.max(0, Math.min(length, this.size - offset));
    if (offset < 0 || size === 0) return Promise.resolve(Buffer.alloc(0));
    const end = offset + size;
    if (end <= this.keptBytes) return Promise.resolve(this.copy(offset, end));
    // What lies between `offset` and the stream's position must still be here.
    if (offset < this.position && this.keptBytes < this.position) {
      return Promise.reject(new Error(`bytes ${offset} to ${end} passed before they were asked for`));
    }
    const buffer = Buffer.alloc(size);
    const filled = offset < this.position ? this.copyInto(buffer, offset, this.position) : 0;
    if (this.ended || filled === size) return Promise.resolve(buffer.subarray(0, filled));
    return new Promise((resolve) => this.wanted.push({ offset, buffer, filled, resolve }));
  }

  private settle(all: boolean): void {
    const open: Wanted[] = [];
    for (const want of this.wanted) {
      if (all || want.filled === want.buffer.length) want.resolve(want.buffer.subarray(0, want.filled));
      else open.push(want);
    }
    this.wanted = open;
  }

  private copy(from: number, to: number): Buffer {
    const out = Buffer.alloc(Math.max(0, to - from));
    this.copyInto(out, from, to);
    return out;
  }

  /** Copies kept bytes [from, to) to the start of `target`; returns how many. */
  private copyInto(target: Buffer, from: number, to: number): number {
    let at = 0;
    let copied = 0;
    for (const part of this.kept) {
      const partEnd = at + part.length;
      if (partEnd > from && at < to) {
        const start = Math.max(from, at);
        const stop = Math.min(to, partEnd);
        copied += part.copy(target, start - from, start - at, stop - at);
      }
      at = partEnd;
      if (at >= to) break;
    }
    return copied;
  }
}
