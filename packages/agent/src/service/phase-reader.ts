import type { PhaseName, PhaseTiming, Queryable } from '@kiln/shared';

/**
 * Where an attempt's time went, as `build_phases` holds it: each phase's
 * start counted from the attempt's first phase (its queue wait, when known).
 */
export async function readPhases(db: Queryable, buildId: string, attempt: number): Promise<PhaseTiming[]> {
  const { rows } = await db.query<{ phase: PhaseName; stage: string | null; start_ms: number; duration_ms: number }>(
    `SELECT phase, stage, duration_ms::float8 AS duration_ms,
            (extract(epoch FROM started_at - min(started_at) OVER ()) * 1000)::float8 AS start_ms
       FROM build_phases WHERE build_id = $1 AND attempt = $2
      ORDER BY started_at, position`,
    [buildId, attempt],
  );
  return rows.map((r) => ({
    phase: r.phase,
    ...(r.stage === null ? {} : { stage: r.stage }),
    startMs: Math.round(r.start_ms),
    durationMs: r.duration_ms,
  }));
}
