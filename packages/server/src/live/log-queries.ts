import type { Queryable } from '@kiln/shared';
import type { LiveLogRow } from './live-feed.js';

/** A place in a build's log: rows are ordered by attempt, then seq (the key of `build_logs`). */
export interface LogCursor {
  attempt: number;
  seq: number;
}

export type StoredLogRow = LiveLogRow & { attempt: number };

/** Rows after `cursor` in (attempt, seq) order, as stored. */
export async function readLogAfter(
  db: Queryable,
  buildId: string,
  cursor: LogCursor | null,
  limit = 1000,
): Promise<StoredLogRow[]> {
  const { rows } = await db.query<{
    attempt: number;
    seq: number;
    stage: string | null;
    stream: LiveLogRow['stream'];
    chunk: string;
  }>(
    `SELECT attempt, seq, stage, stream, chunk FROM build_logs
      WHERE build_id = $1 AND (attempt, seq) > ($2, $3)
      ORDER BY attempt, seq LIMIT $4`,
    [buildId, cursor?.attempt ?? 0, cursor?.seq ?? -1, limit],
  );
  return rows.map((r) => ({ attempt: r.attempt, seq: r.seq, stage: r.stage, stream: r.stream, text: r.chunk }));
}

/** `Last-Event-ID` of the log stream: `<attempt>:<seq>`. */
export function parseCursor(text: string): LogCursor | null {
  const match = /^(\d{1,9}):(\d{1,9})$/.exec(text.trim());
  if (!match) return null;
  return { attempt: Number(match[1]), seq: Number(match[2]) };
}

export function formatCursor(cursor: LogCursor): string {
  return `${cursor.attempt}:${cursor.seq}`;
}

export function isAfter(row: LogCursor, cursor: LogCursor | null): boolean {
  if (!cursor) return true;
  return row.attempt > cursor.attempt || (row.attempt === cursor.attempt && row.seq > cursor.seq);
}
