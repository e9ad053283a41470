import type { Queryable } from '../db/queryable.js';
import type { BuildStatus } from '../report.js';

export interface LogLine {
  seq: number;
  stage: string | null;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

/** The attempt whose log is shown: the build's current one if it logged anything, else the last that did. */
export async function logAttempt(db: Queryable, id: string): Promise<number | null> {
  const result = await db.query<{ attempt: number | null }>(
    `SELECT COALESCE(
       (SELECT b.attempt FROM builds b WHERE b.id = $1
           AND EXISTS (SELECT 1 FROM build_logs l WHERE l.build_id = b.id AND l.attempt = b.attempt)),
       (SELECT max(attempt) FROM build_logs WHERE build_id = $1)) AS attempt`,
    [id],
  );
  return result.rows[0]?.attempt ?? null;
}

/** Up to `limit` lines of one attempt's log after `afterSeq`, in order. */
export async function readLog(
  db: Queryable,
  id: string,
  attempt: number,
  afterSeq = -1,
  limit = 500,
): Promise<LogLine[]> {
  const result = await db.query<{ seq: number; stage: string | null; stream: LogLine['stream']; chunk: string }>(
    'SELECT seq, stage, stream, chunk FROM build_logs WHERE build_id = $1 AND attempt = $2 AND seq > $3 ORDER BY seq LIMIT $4',
    [id, attempt, afterSeq, limit],
  );
  return result.rows.map((r) => ({ seq: r.seq, stage: r.stage, stream: r.stream, text: r.chunk }));
}

/** A build's status and current attempt; null when there is no such build. */
export async function buildState(db: Queryable, id: string): Promise<{ status: BuildStatus; attempt: number } | null> {
  const result = await db.query<{ status: BuildStatus; attempt: number }>(
    'SELECT status, attempt FROM builds WHERE id = $1',
    [id],
  );
  return result.rows[0] ?? null;
}
