import type { PhaseTiming, Queryable } from '@kiln/shared';
import type { AttemptRef } from './attempt.js';

/** The attempt's phases (build_phases), numbered from `firstPosition`; a phase already written stays. */
export async function writePhases(
  db: Queryable,
  ref: AttemptRef,
  origin: Date,
  phases: readonly PhaseTiming[],
  firstPosition: number,
): Promise<void> {
  if (phases.length === 0) return;
  await db.query(
    `INSERT INTO build_phases (build_id, attempt, position, phase, stage, started_at, duration_ms)
     SELECT $1, $2, $3 + t.i - 1, t.phase, t.stage, $4::timestamptz + t.start_ms * interval '1 millisecond', t.duration_ms
       FROM unnest($5::text[], $6::text[], $7::bigint[], $8::bigint[]) WITH ORDINALITY AS t(phase, stage, start_ms, duration_ms, i)
     ON CONFLICT (build_id, attempt, position) DO NOTHING`,
    [
      ref.buildId,
      ref.attempt,
      firstPosition,
      origin.toISOString(),
      phases.map((p) => p.phase),
      phases.map((p) => p.stage ?? null),
      phases.map((p) => p.startMs),
      phases.map((p) => p.durationMs),
    ],
  );
}
