import type { LogChunk } from './types.js';

/** Adjacent chunks of one stage and stream are merged up to this size, so a log is not thousands of tiny rows. */
const MERGE_LIMIT = 16 * 1024;

/**
 * The log kept for a build: every chunk in order until the cap, then the
 * oldest output is dropped and the tail kept (the end of a log says why a
 * build failed).
 */
export class LogKeeper {
  private readonly kept: Array<LogChunk & { bytes: number }> = [];
  private total = 0;
  private dropped = 0;

  constructor(private readonly limitBytes: number) {}

  add(chunk: LogChunk): void {
    if (!chunk.text) return;
    const bytes = Buffer.byteLength(chunk.text);
    const last = this.kept.at(-1);
    if (last && last.stage === chunk.stage && last.stream === chunk.stream && last.bytes + bytes <= MERGE_LIMIT) {
      last.text += chunk.text;
      last.bytes += bytes;
    } else {
      this.kept.push({ ...chunk, bytes });
    }
    this.total += bytes;
    this.trim();
  }

  chunks(): LogChunk[] {
    return this.kept.map(({ bytes: _bytes, ...chunk }) => chunk);
  }

  get truncatedBytes(): number {
    return this.dropped;
  }

  private trim(): void {
    while (this.total > this.limitBytes && this.kept.length > 0) {
      const first = this.kept[0]!;
      const excess = this.total - this.limitBytes;
      if (first.bytes <= excess) {
        this.kept.shift();
        this.total -= first.bytes;
        this.dropped += first.bytes;
        continue;
      }
      const buffer = Buffer.from(first.text);
      let cut = excess;
      // Never start inside a UTF-8 sequence: skip its continuation bytes.
      while (cut < buffer.length && (buffer[cut]! & 0xc0) === 0x80) cut++;
      const rest = buffer.subarray(cut).toString();
      const restBytes = Buffer.byteLength(rest);
      this.dropped += first.bytes - restBytes;
      this.total -= first.bytes - restBytes;
      first.text = rest;
      first.bytes = restBytes;
    }
  }
}
