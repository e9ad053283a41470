import type { Queryable } from '@kiln/shared';
import type { BuildResult } from './attempt.js';

/**
 * Completes the attempt's stage and command rows from the report: rows
 * written live keep their start times and get their results; what the live
 * writes missed (the database was away, a stage was skipped) is added.
 * Nothing is deleted and written again.
 */
export async function completeStages(db: Queryable, buildId: string, result: BuildResult): Promise<void> {
  const stages = result.report.stages;
  if (stages.length === 0) return;
  // Start times: what was seen live, else laid end to end from the build's start.
  let clock = result.startedAt?.getTime() ?? Date.now() - stages.reduce((sum, x) => sum + x.durationMs, 0);
  const stageStarts: number[] = [];
  const commands: Array<{
    position: number;
    index: number;
    command: string;
    exitCode: number | null;
    startedAt: number;
    durationMs: number;
  }> = [];
  stages.forEach((stage, position) => {
    const start = result.stageStartedAt?.[position]?.getTime() ?? clock;
    stageStarts.push(start);
    let at = start;
    stage.commands.forEach((c, index) => {
      commands.push({
        position,
        index,
        command: c.command,
        exitCode: c.exitCode,
        startedAt: at,
        durationMs: Math.round(c.durationMs),
      });
      at += c.durationMs;
    });
    clock = start + stage.durationMs;
  });
  await db.query(
    `INSERT INTO build_stages (build_id, position, name, image, status, exit_code, started_at, duration_ms, error)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::bigint[], $9::text[])
     ON CONFLICT (build_id, position) DO UPDATE
        SET name = EXCLUDED.name, image = EXCLUDED.image, status = EXCLUDED.status, exit_code = EXCLUDED.exit_code,
            started_at = COALESCE(build_stages.started_at, EXCLUDED.started_at), duration_ms = EXCLUDED.duration_ms,
            error = EXCLUDED.error`,
    [
      buildId,
      stages.map((_, i) => i),
      stages.map((x) => x.name),
      stages.map((x) => x.image ?? null),
      stages.map((x) => x.status),
      stages.map((x) => x.exitCode),
      stageStarts.map((t) => new Date(t).toISOString()),
      stages.map((x) => Math.round(x.durationMs)),
      stages.map((x) => x.error ?? null),
    ],
  );
  if (commands.length === 0) return;
  await db.query(
    `INSERT INTO build_commands (build_id, stage_position, position, command, exit_code, started_at, duration_ms)
     SELECT $1, * FROM unnest($2::int[], $3::int[], $4::text[], $5::int[], $6::timestamptz[], $7::bigint[])
     ON CONFLICT (build_id, stage_position, position) DO UPDATE
        SET command = EXCLUDED.command, exit_code = EXCLUDED.exit_code,
            started_at = COALESCE(build_commands.started_at, EXCLUDED.started_at), duration_ms = EXCLUDED.duration_ms`,
    [
      buildId,
      commands.map((c) => c.position),
      commands.map((c) => c.index),
      commands.map((c) => c.command),
      commands.map((c) => c.exitCode),
      commands.map((c) => new Date(c.startedAt).toISOString()),
      commands.map((c) => c.durationMs),
    ],
  );
}
