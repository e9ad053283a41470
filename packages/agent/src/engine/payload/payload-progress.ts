import { formatBytes } from '../limits-text.js';
import type { PayloadProgress } from '../types.js';

/** How often progress is told while the payload streams. */
const EVENT_EVERY_MS = 250;

/** Counts bytes and files as they pass and tells at most every EVENT_EVERY_MS, and at the end. */
export class ProgressMeter {
  private readonly started = performance.now();
  private bytesDone = 0;
  private files = 0;
  private lastTold = 0;

  constructor(
    private readonly bytesTotal: number | null,
    private readonly tell: (progress: PayloadProgress) => void,
  ) {
    this.emit(false);
  }

  bytes(count: number): void {
    this.bytesDone += count;
    if (performance.now() - this.lastTold >= EVENT_EVERY_MS) this.emit(false);
  }

  file(): void {
    this.files++;
  }

  finish(): void {
    this.emit(true);
  }

  private emit(done: boolean): void {
    const now = performance.now();
    this.lastTold = now;
    const total = this.bytesTotal === null ? null : Math.max(this.bytesTotal, this.bytesDone);
    this.tell({ bytesDone: this.bytesDone, bytesTotal: total, files: this.files, elapsedMs: now - this.started, done });
  }
}

/** How often a long payload phase writes a line to the build's log. */
const LOG_EVERY_MS = 5000;

/**
 * Progress as lines of the build's log (what `kiln logs --follow` and a
 * plain `kiln run` show): none for a payload done within LOG_EVERY_MS, then
 * one line every LOG_EVERY_MS: `payload: 1.2 GiB of at most 3.0 GiB read (40%), 1234 files, 150 MiB/s`.
 */
export function progressLines(write: (line: string) => void): (progress: PayloadProgress) => void {
  let next = LOG_EVERY_MS;
  return (p) => {
    if (p.done || p.elapsedMs < next) return;
    next = p.elapsedMs + LOG_EVERY_MS;
    const rate = p.elapsedMs > 0 ? `, ${formatBytes(Math.round((p.bytesDone / p.elapsedMs) * 1000))}/s` : '';
    const of =
      p.bytesTotal === null
        ? ''
        : ` of at most ${formatBytes(p.bytesTotal)} (${Math.floor((p.bytesDone / Math.max(1, p.bytesTotal)) * 100)}%)`;
    write(`payload: ${formatBytes(p.bytesDone)}${of} read, ${p.files} files${rate}\n`);
  };
}
