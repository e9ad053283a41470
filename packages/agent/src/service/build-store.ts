import type {
  BuildJob,
  BuildReport,
  BuildStatus,
  ConfiguredOwners,
  Database,
  Manifest,
  PhaseTiming,
  Queryable,
} from '@kiln/shared';
import {
  QUEUED_BUILD_COLUMNS,
  checkOwnership,
  claimPackage,
  queuedBuildValues,
  repoIdentity,
  withTransaction,
} from '@kiln/shared';
import { ownershipRefusal } from './ownership-refusal.js';
import type { LogChunk } from '../engine/types.js';
import type { FailureNotifications } from './failure-notifications.js';
import type { BuildAnalyst } from '../intel/build-analyst.js';

/**
 * The agent's side of the `builds` table: admission, the claim of an attempt,
 * its lease, and the final result. Every write of an attempt is guarded by
 * `(id, attempt, status = 'running')`, so a worker that lost its lease (it
 * slept, its broker channel died and someone else took over) can never
 * overwrite the newer attempt.
 */
export type JobWithId = BuildJob & { id: string };

export type ClaimResult =
  | { kind: 'claimed'; attempt: number; queuedAt: Date; startedAt: Date }
  | { kind: 'finished'; status: BuildStatus }
  | { kind: 'busy'; agent: string | null; attempt: number; leaseExpiresAt: Date | null }
  | { kind: 'missing' };

export interface AttemptRef {
  buildId: string;
  attempt: number;
  agent: string;
}

export interface BuildResult {
  report: BuildReport;
  manifest: Manifest | null;
  commit: string | null;
  package: { name: string; version: string } | null;
  /** Replaces the attempt's live log when the live one was cut short. */
  log?: { chunks: LogChunk[]; firstSeq: number; truncatedBytes: number };
  /** Who hears about a failure: the manifest's maintainer, else the commit's author. */
  maintainer?: string;
  commitAuthor?: { name: string; email: string };
  /** What `report.timings` count from (the job's request). */
  timingsOrigin?: Date;
  /** When the engine started, and each stage as seen live: the start times recorded for stages and commands. */
  startedAt?: Date;
  stageStartedAt?: Array<Date | undefined>;
}

export const FINISHED_STATUSES: readonly BuildStatus[] = ['succeeded', 'failed', 'errored', 'cancelled'];
const FINISHED = FINISHED_STATUSES as readonly string[];

export class BuildStore {
  constructor(
    private readonly pool: Database,
    private readonly notifications: FailureNotifications,
    private readonly owners: ConfiguredOwners = new Map(),
    private readonly analyst?: BuildAnalyst,
  ) {}

  /** Null when `repo` may build `name`, else why not (before any work is done; `finish` checks again). */
  async ownershipProblem(name: string, repo: string): Promise<string | null> {
    const check = await checkOwnership(this.pool, name, repo, this.owners);
    return check.ok ? null : ownershipRefusal(name, repo, check.owners);
  }

  /** Creates the `queued` row of a job unless it exists (the crawler may have made it). */
  async ensureQueued(job: JobWithId, db: Queryable = this.pool): Promise<void> {
    await db.query(
      `INSERT INTO builds (${QUEUED_BUILD_COLUMNS}, status, queued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', COALESCE($8::timestamptz, now()))
       ON CONFLICT (id) DO NOTHING`,
      [...queuedBuildValues(job), job.requestedAt ?? null],
    );
  }

  /**
   * Takes the build for this agent if it is queued, or running under a lease
   * that ran out (its agent died). Idempotent: a duplicate delivery of a
   * finished build learns so and builds nothing.
   */
  async claim(buildId: string, agent: string, leaseMs: number): Promise<ClaimResult> {
    // Cancelled through kiln server while waiting, or while its agent was dead: it ends here, unbuilt.
    await this.pool.query(
      `UPDATE builds SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL,
              error = COALESCE(error, 'cancelled on request')
        WHERE id = $1 AND cancel_requested_at IS NOT NULL
          AND (status = 'queued' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())))`,
      [buildId],
    );
    const claimed = await this.pool.query<{ attempt: number; queued_at: Date; started_at: Date }>(
      `UPDATE builds
          SET status = 'running', attempt = attempt + 1, agent = $2,
              lease_expires_at = now() + $3 * interval '1 millisecond', heartbeat_at = now(),
              started_at = now(), finished_at = NULL, duration_ms = NULL, error = NULL,
              failed_stage = NULL, failed_command = NULL, exit_code = NULL, report = NULL
        WHERE id = $1
          AND (status = 'queued' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())))
        RETURNING attempt, queued_at, started_at`,
      [buildId, agent, leaseMs],
    );
    const row = claimed.rows[0];
    if (row) {
      // What an earlier attempt recorded live belongs to that attempt only.
      await this.pool.query('DELETE FROM build_commands WHERE build_id = $1', [buildId]);
      await this.pool.query('DELETE FROM build_stages WHERE build_id = $1', [buildId]);
      return { kind: 'claimed', attempt: row.attempt, queuedAt: row.queued_at, startedAt: row.started_at };
    }
    const current = await this.pool.query<{
      status: BuildStatus;
      agent: string | null;
      attempt: number;
      lease_expires_at: Date | null;
    }>('SELECT status, agent, attempt, lease_expires_at FROM builds WHERE id = $1', [buildId]);
    const now = current.rows[0];
    if (!now) return { kind: 'missing' };
    if (FINISHED.includes(now.status)) return { kind: 'finished', status: now.status };
    return { kind: 'busy', agent: now.agent, attempt: now.attempt, leaseExpiresAt: now.lease_expires_at };
  }

  /** Renews the lease; false when this attempt no longer owns the build. */
  async heartbeat(ref: AttemptRef, leaseMs: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE builds SET heartbeat_at = now(), lease_expires_at = now() + $4 * interval '1 millisecond'
        WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'`,
      [ref.buildId, ref.attempt, ref.agent, leaseMs],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Whether kiln server was asked to cancel this build. */
  async cancelRequested(buildId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ asked: boolean }>(
      'SELECT cancel_requested_at IS NOT NULL AS asked FROM builds WHERE id = $1',
      [buildId],
    );
    return rows[0]?.asked === true;
  }

  /** Gives the build back to the queue (shutdown, or a failure worth retrying); the attempt number stays. */
  async release(ref: AttemptRef): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE builds SET status = 'queued', lease_expires_at = NULL, heartbeat_at = NULL
        WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'`,
      [ref.buildId, ref.attempt, ref.agent],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /**
   * Records as `errored` the builds whose last possible delivery died with
   * its agent. RabbitMQ delivers a job at most deliveryLimit + 1 times (then
   * dead-letters it), and every claim adds an attempt; so a running build at
   * attempt > deliveryLimit whose lease ran out (by `graceMs`, for an agent
   * that is only slow) will never be delivered again, and would otherwise
   * stay `running` forever. A build with fewer attempts may still be waiting
   * in the queue and is left alone. Its maintainer is told, as for any
   * errored build. Returns the ids it recorded.
   */
  async abandonExhausted(deliveryLimit: number, graceMs: number): Promise<string[]> {
    return withTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ id: string; maintainer: string | null }>(
        `UPDATE builds
            SET status = 'errored', finished_at = now(), lease_expires_at = NULL,
                duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint,
                failed_stage = COALESCE(failed_stage, 'agent'),
                error = 'gave up: attempt ' || attempt || ' died with its agent (lease expired at '
                        || to_char(lease_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                        || '), and RabbitMQ does not deliver a job more than ' || ($1::int + 1) || ' times'
          WHERE status = 'running' AND attempt > $1
            AND lease_expires_at < now() - $2 * interval '1 millisecond'
          RETURNING id::text AS id, manifest #>> '{package,maintainer}' AS maintainer`,
        [deliveryLimit, graceMs],
      );
      for (const row of rows) {
        await this.notifications.queue(db, {
          buildId: row.id,
          ...(row.maintainer ? { maintainer: row.maintainer } : {}),
        });
      }
      return rows.map((r) => r.id);
    });
  }

  /** What the checkout found, as soon as it is known (`kiln status` shows it while building). */
  async recordCheckout(
    ref: AttemptRef,
    found: {
      commit: string;
      branch: string | null;
      package: { name: string; version: string } | null;
      manifest: Manifest | null;
    },
  ): Promise<void> {
    await this.pool.query(
      `UPDATE builds SET commit = $4, branch = COALESCE(branch, $5),
              package_name = COALESCE($6, package_name), package_version = COALESCE($7, package_version),
              manifest = COALESCE($8::jsonb, manifest)
        WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'`,
      [
        ref.buildId,
        ref.attempt,
        ref.agent,
        found.commit,
        found.branch,
        found.package?.name ?? null,
        found.package?.version ?? null,
        found.manifest ? JSON.stringify(found.manifest) : null,
      ],
    );
  }

  async stageStarted(ref: AttemptRef, stage: { position: number; name: string; image: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO build_stages (build_id, position, name, image, status, started_at)
       SELECT $1, $4, $5, $6, 'running', now() FROM builds
        WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'
       ON CONFLICT (build_id, position) DO UPDATE
         SET name = EXCLUDED.name, image = EXCLUDED.image, status = 'running', started_at = now(),
             exit_code = NULL, duration_ms = NULL, error = NULL`,
      [ref.buildId, ref.attempt, ref.agent, stage.position, stage.name, stage.image],
    );
  }

  async stageFinished(
    ref: AttemptRef,
    stage: { position: number; status: string; exitCode: number | null; durationMs: number; error?: string },
  ): Promise<void> {
    await this.pool.query(
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
  async commandStarted(
    ref: AttemptRef,
    command: { stagePosition: number; index: number; command: string },
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO build_commands (build_id, stage_position, position, command, started_at)
       SELECT $1, $4, $5, $6, now() FROM builds
        WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'
       ON CONFLICT (build_id, stage_position, position) DO NOTHING`,
      [ref.buildId, ref.attempt, ref.agent, command.stagePosition, command.index, command.command],
    );
  }

  async commandFinished(
    ref: AttemptRef,
    command: { stagePosition: number; index: number; command: string; exitCode: number; durationMs: number },
  ): Promise<void> {
    await this.pool.query(
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

  /**
   * Writes the attempt's result in ONE transaction: the row, stages, commands,
   * the package and its files, and the failure email's queue entry. Returns
   * false (and writes nothing) when a newer attempt owns the build.
   */
  async finish(ref: AttemptRef, result: BuildResult): Promise<boolean> {
    const sonames = (await this.analyst?.buildImageSonames(this.pool, result.report)) ?? [];
    return withTransaction(this.pool, async (db) => {
      let { report } = result;
      if (report.status === 'succeeded' && report.install && result.package) {
        // The authoritative check: two first builds of one name from two repositories take turns here.
        const repo = await repoOf(db, ref.buildId);
        const claim = await claimPackage(db, result.package.name, repo, this.owners);
        if (!claim.ok) {
          const reason = ownershipRefusal(result.package.name, repo, claim.owners);
          report = {
            ...report,
            status: 'errored',
            install: null,
            error: reason,
            failure: { stage: 'ownership', reason },
          };
        }
      }
      const analysed = await this.analyst?.analyse(db, ref.buildId, report, result.manifest, sonames);
      if (analysed) report = analysed.report;
      const updated = await db.query(
        `UPDATE builds
            SET status = $4, finished_at = now(), duration_ms = $5, error = $6, failed_stage = $7,
                failed_command = $8, exit_code = $9, manifest = COALESCE($10::jsonb, manifest), report = $11::jsonb,
                commit = COALESCE($12, commit), package_name = COALESCE($13, package_name),
                package_version = COALESCE($14, package_version), lease_expires_at = NULL,
                policy_flags = $15::jsonb
          WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'`,
        [
          ref.buildId,
          ref.attempt,
          ref.agent,
          report.status,
          Math.round(report.durationMs),
          report.error,
          report.failure?.stage ?? null,
          report.failure?.command ?? null,
          report.failure?.exitCode ?? null,
          result.manifest ? JSON.stringify(result.manifest) : null,
          JSON.stringify(report),
          result.commit,
          result.package?.name ?? null,
          result.package?.version ?? null,
          report.flags?.length ? JSON.stringify(report.flags) : null,
        ],
      );
      if ((updated.rowCount ?? 0) === 0) return false;
      await completeStages(db, ref.buildId, { ...result, report });
      if (result.log) await replaceLog(db, ref, result.log);
      if (report.timings?.length) await writePhases(db, ref, result.timingsOrigin ?? new Date(), report.timings, 0);
      if (report.status === 'succeeded' && report.install && result.package) {
        await writePackage(db, ref.buildId, result.package, report);
      }
      if (analysed) await this.analyst?.record(db, ref.buildId, analysed);
      const notification = { buildId: ref.buildId, maintainer: result.maintainer, commitAuthor: result.commitAuthor };
      if (report.status === 'failed' || report.status === 'errored') await this.notifications.queue(db, notification);
      if (report.status === 'succeeded') await this.notifications.queueSuccess?.(db, notification);
      return true;
    });
  }

  /**
   * Phases that end after the result is committed (record, ack, cleanup),
   * numbered after the ones the result carried. Best effort: the report has the rest.
   */
  async addPhases(ref: AttemptRef, origin: Date, phases: readonly PhaseTiming[], firstPosition: number): Promise<void> {
    await writePhases(this.pool, ref, origin, phases, firstPosition);
  }
}

async function writePhases(
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

/**
 * Completes the attempt's stage and command rows from the report: rows
 * written live keep their start times and get their results; what the live
 * writes missed (the database was away, a stage was skipped) is added.
 * Nothing is deleted and written again.
 */
async function completeStages(db: Queryable, buildId: string, result: BuildResult): Promise<void> {
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

async function replaceLog(db: Queryable, ref: AttemptRef, log: NonNullable<BuildResult['log']>): Promise<void> {
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

async function writePackage(
  db: Queryable,
  buildId: string,
  pkg: { name: string; version: string },
  report: BuildReport,
): Promise<void> {
  const install = report.install;
  if (!install) return;
  const files = install.files;
  await db.query('DELETE FROM package_files WHERE build_id = $1', [buildId]);
  if (files.length > 0) {
    await db.query(
      `INSERT INTO package_files (build_id, path, size, mode, sha256, kind, linkage, needed, target, soname)
       SELECT $1, t.path, t.size, t.mode, t.sha256, t.kind, t.linkage,
              CASE WHEN t.needed IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(t.needed)) END,
              t.target, t.soname
         FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::text[])
              AS t(path, size, mode, sha256, kind, linkage, needed, target, soname)
       ON CONFLICT (build_id, path) DO NOTHING`,
      [
        buildId,
        files.map((f) => f.path),
        files.map((f) => f.size),
        files.map((f) => f.mode),
        files.map((f) => f.sha256 ?? null),
        files.map((f) => f.kind),
        files.map((f) => f.linkage ?? null),
        files.map((f) => (f.needed ? JSON.stringify(f.needed) : null)),
        files.map((f) => f.target ?? null),
        files.map((f) => f.soname ?? null),
      ],
    );
  }
  // One row per name and version, pointing at the newest build: a hotfix
  // replaces it, but an older build that happens to finish later does not.
  await db.query(
    `INSERT INTO packages (name, version, build_id, installed_size, file_count, payload_sha256, artifact,
                           artifact_format, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
     ON CONFLICT (name, version) DO UPDATE
        SET build_id = EXCLUDED.build_id, installed_size = EXCLUDED.installed_size, file_count = EXCLUDED.file_count,
            payload_sha256 = EXCLUDED.payload_sha256, artifact = EXCLUDED.artifact,
            artifact_format = EXCLUDED.artifact_format, updated_at = now()
      WHERE (SELECT queued_at FROM builds WHERE id = packages.build_id)
            <= (SELECT queued_at FROM builds WHERE id = EXCLUDED.build_id)`,
    [
      pkg.name,
      pkg.version,
      buildId,
      install.sizeBytes,
      files.length,
      install.artifact?.sha256 ?? null,
      install.artifact?.path ?? null,
      install.artifact?.format ?? null,
    ],
  );
}

/** The build's repository, as ownership knows it (the stored location is already without credentials). */
async function repoOf(db: Queryable, buildId: string): Promise<string> {
  const { rows } = await db.query<{ repo: string }>('SELECT repo FROM builds WHERE id = $1', [buildId]);
  return repoIdentity(rows[0]?.repo ?? '');
}

/** PostgreSQL text cannot hold NUL; build output sometimes does. */
export function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.split('\u0000').join('') : text;
}
