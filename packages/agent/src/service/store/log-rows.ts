import type { Queryable } from '@kiln/shared';
import type { LogChunk } from '../../engine/types.js';
import type { AttemptRef, BuildResult } from './attempt.js';

/** The attempt's log, replaced by the kept tail when the live one was cut short. */
export async function replaceLog(db: Queryable, ref: AttemptRef, log: NonNullable<BuildResult['log']>): Promise<void> {
  await db.query('DELETE FROM build_logs WHERE build_id = $1 AND attempt = $2', [ref.buildId, ref.attempt]);
  const note: LogChunk = {
    stage: 'kiln',
    stream: 'system',
    text: `[kiln] the log exceeded the limit: ${log.truncatedBytes} bytes of older output dropped, the rest follows\n`,
    at: Date.now(),
  };
  const chunks = log.truncatedBytes > 0 ? [note, ...log.chunks] : log.chunks;
  if (chunks.length === 0) return;
  await db.query(
    `INSERT INTO build_logs (build_id, attempt, seq, stage, stream, chunk)
     SELECT $1, $2, $3 + t.i - 1, t.stage, t.stream, t.chunk
       FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(stage, stream, chunk, i)`,
    [
      ref.buildId,
      ref.attempt,
      log.firstSeq,
      chunks.map((c) => c.stage),
      chunks.map((c) => c.stream),
      chunks.map((c) => withoutNul(c.text)),
    ],
  );
}

/** PostgreSQL text cannot hold NUL; build output sometimes does. */
export function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.split('\u0000').join('') : text;
}
