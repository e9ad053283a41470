import type { Queryable } from '@kiln/shared';
import type { AttemptRef } from './attempt.js';

/*
 * A stage's and a script line's rows, written once when they start and
 * completed when they end, while the build runs (completeStages fills in
 * whatever these missed when the result is written).
 */

export async function stageStarted(
  db: Queryable,
  ref: AttemptRef,
  stage: { position: number; name: string; image: string },
): Promise<void> {
  await db.query(
    `INSERT INTO build_stages (build_id, position, name, image, status, started_at)
     SELECT $1, $4, $5, $6, 'running', now() FROM builds
      WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'
     ON CONFLICT (build_id, position) DO UPDATE
       SET name = EXCLUDED.name, image = EXCLUDED.image, status = 'running', started_at = now(),
           exit_code = NULL, duration_ms = NULL, error = NULL`,
    [ref.buildId, ref.attempt, ref.agent, stage.position, stage.name, stage.image],
  );
}

export async function stageFinished(
  db: Queryable,
  ref: AttemptRef,
  stage: { position: number; status: string; exitCode: number | null; durationMs: number; error?: string },
): Promise<void> {
  await db.query(
    `UPDATE build_stages s SET status = $5, exit_code = $6, duration_ms = $7, error = $8
       FROM builds b
      WHERE s.build_id = $1 AND s.position = $4
        AND b.id = $1 AND b.attempt = $2 AND b.agent = $3 AND b.status = 'running'`,
    [
      ref.buildId,
      ref.attempt,
      ref.agent,
      stage.position,
      stage.status,
      stage.exitCode,
      Math.round(stage.durationMs),
      stage.error ?? null,
    ],
  );
}

/** A script line's row, written once when it starts; `commandFinished` completes it. */
export async function commandStarted(
  db: Queryable,
  ref: AttemptRef,
  command: { stagePosition: number; index: number; command: string },
): Promise<void> {
  await db.query(
    `INSERT INTO build_commands (build_id, stage_position, position, command, started_at)
     SELECT $1, $4, $5, $6, now() FROM builds
      WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'
     ON CONFLICT (build_id, stage_position, position) DO NOTHING`,
    [ref.buildId, ref.attempt, ref.agent, command.stagePosition, command.index, command.command],
  );
}

export async function commandFinished(
  db: Queryable,
  ref: AttemptRef,
  command: { stagePosition: number; index: number; command: string; exitCode: number; durationMs: number },
): Promise<void> {
  await db.query(
    `INSERT INTO build_commands (build_id, stage_position, position, command, exit_code, started_at, duration_ms)
     SELECT $1, $4, $5, $6, $7, now() - $8 * interval '1 millisecond', $8 FROM builds
      WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'
     ON CONFLICT (build_id, stage_position, position) DO UPDATE
       SET exit_code = EXCLUDED.exit_code, duration_ms = EXCLUDED.duration_ms`,
    [
      ref.buildId,
      ref.attempt,
      ref.agent,
      command.stagePosition,
      command.index,
      command.command,
      command.exitCode,
      Math.round(command.durationMs),
    ],
  );
}
