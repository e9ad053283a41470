import type { Logger, Queryable } from '@kiln/shared';
import { LogKeeper } from '../engine/log-keeper.js';
import type { LogChunk, LogStream } from '../engine/types.js';
import { withoutNul } from './store/index.js';

/** One row of `build_logs` as written live. */
export interface LogRow {
  seq: number;
  stage: string;
  stream: LogStream;
  text: string;
}

export interface LiveLogOptions {
  db: Queryable;
  buildId: string;
  attempt: number;
  /** Bytes written live at most; past it, the final result carries the engine's kept tail instead. */
  limitBytes: number;
  flushMs?: number;
  logger: Logger;
  /** Each row once, as it is formed (the live events exchange). */
  onRows?: (rows: LogRow[]) => void;
}

const MAX_ROW_BYTES = 16 * 1024;
// Rows waiting while the database is away are dropped past this many (the tail comes with the result).
const MAX_PENDING_ROWS = 2000;

/**
 * The one place an attempt's log lives: appended to `build_logs` while it
 * runs, in small batches, so `kiln logs --follow` sees lines as they come
 * (consecutive chunks of one stage and stream merged into rows of up to
 * 16 KiB), and its capped tail kept for the result when the live rows were
 * cut short.
 */
export class LiveLog {
  private readonly keeper: LogKeeper;
  private buffer: LogChunk[] = [];
  private pending: LogRow[] = [];
  private nextSeq = 0;
  private bytes = 0;
  private truncated = false;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LiveLogOptions) {
    this.keeper = new LogKeeper(options.limitBytes);
  }

  append(chunk: LogChunk): void {
    if (this.closed) return;
    this.keeper.add(chunk);
    if (this.truncated) return;
    const size = Buffer.byteLength(chunk.text);
    if (this.bytes + size > this.options.limitBytes) {
      this.truncated = true;
      this.buffer.push({
        ...chunk,
        stream: 'system',
        text: '[kiln] log limit reached: the rest is kept when the build ends\n',
      });
    } else {
      this.bytes += size;
      this.buffer.push(chunk);
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushMs ?? 200);
  }

  /** Writes what is buffered; never throws (a failed write is retried on the next flush). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /**
   * Flushes and stops. When the live rows were cut short, `kept` (the capped
   * tail) replaces them, numbered from `nextSeq`.
   */
  async close(): Promise<{
    truncated: boolean;
    nextSeq: number;
    unwritten: number;
    kept: LogChunk[];
    truncatedBytes: number;
  }> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
    const unwritten = this.pending.length;
    // Rows the database never took still count as written for seq numbering:
    // the final transaction replaces this attempt's log with the kept one.
    return {
      truncated: this.truncated || unwritten > 0,
      nextSeq: this.nextSeq,
      unwritten,
      kept: this.keeper.chunks(),
      truncatedBytes: this.keeper.truncatedBytes,
    };
  }

  private async write(): Promise<void> {
    if (this.buffer.length > 0) {
      const rows = mergeChunks(this.buffer, this.nextSeq);
      this.buffer = [];
      this.nextSeq += rows.length;
      this.options.onRows?.(rows);
      this.pending.push(...rows);
      if (this.pending.length > MAX_PENDING_ROWS) this.pending.splice(0, this.pending.length - MAX_PENDING_ROWS);
    }
    if (this.pending.length === 0) return;
    const rows = this.pending;
    try {
      await this.options.db.query(
        `INSERT INTO build_logs (build_id, attempt, seq, stage, stream, chunk)
         SELECT $1, $2, * FROM unnest($3::int[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT (build_id, attempt, seq) DO NOTHING`,
        [
          this.options.buildId,
          this.options.attempt,
          rows.map((r) => r.seq),
          rows.map((r) => r.stage),
          rows.map((r) => r.stream),
          rows.map((r) => r.text),
        ],
      );
      this.pending = this.pending.slice(rows.length);
    } catch (err) {
      this.options.logger.warn({ err, rows: rows.length }, 'could not append to build_logs; will retry');
    }
  }
}

export function mergeChunks(chunks: readonly LogChunk[], firstSeq: number): LogRow[] {
  const rows: LogRow[] = [];
  for (const chunk of chunks) {
    const last = rows[rows.length - 1];
    if (
      last &&
      last.stage === chunk.stage &&
      last.stream === chunk.stream &&
      Buffer.byteLength(last.text) + Buffer.byteLength(chunk.text) <= MAX_ROW_BYTES
    ) {
      last.text += withoutNul(chunk.text);
    } else {
      rows.push({
        seq: firstSeq + rows.length,
        stage: chunk.stage,
        stream: chunk.stream,
        text: withoutNul(chunk.text),
      });
    }
  }
  return rows;
}
