import type { ConfiguredOwners, Database, PhaseTiming, Queryable } from '@kiln/shared';
import { QUEUED_BUILD_COLUMNS, checkOwnership, queuedBuildValues } from '@kiln/shared';
import type { FailureNotifications } from '../failure-notifications.js';
import { ownershipRefusal } from '../ownership-refusal.js';
import { abandonExhausted } from './abandon-exhausted.js';
import type { AttemptRef, BuildResult, JobWithId } from './attempt.js';
import { cancelRequested, releaseAttempt, renewLease } from './attempt-lease.js';
import { recordCheckout, type CheckoutFound } from './checkout-row.js';
import { claimBuild, type ClaimResult } from './claim.js';
import { finishAttempt } from './finish-attempt.js';
import type { BuildAnalyst } from '../../intel/build-analyst.js';
import { commandFinished, commandStarted, stageFinished, stageStarted } from './live-stage-rows.js';
import { writePhases } from './phase-rows.js';

/**
 * The agent's side of the `builds` table: admission, the claim of an attempt,
 * its lease, its rows as it runs, and the final result. Every write of an
 * attempt is guarded by `(id, attempt, status = 'running')`, so a worker that
 * lost its lease (it slept, its broker channel died and someone else took
 * over) can never overwrite the newer attempt. Each concept lives in its own
 * file beside this one; this class binds them to the pool.
 */
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

  /** Creates the `queued` row of a job unless it exists (the crawler may have made it); a routed job fills in its arch. */
  async ensureQueued(job: JobWithId, db: Queryable = this.pool): Promise<void> {
    await db.query(
      `INSERT INTO builds (${QUEUED_BUILD_COLUMNS}, status, queued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', COALESCE($9::timestamptz, now()))
       ON CONFLICT (id) DO UPDATE SET arch = EXCLUDED.arch
        WHERE builds.arch IS NULL AND EXCLUDED.arch IS NOT NULL`,
      [...queuedBuildValues(job), job.requestedAt ?? null],
    );
  }

  claim(buildId: string, agent: string, leaseMs: number): Promise<ClaimResult> {
    return claimBuild(this.pool, buildId, agent, leaseMs);
  }

  heartbeat(ref: AttemptRef, leaseMs: number): Promise<boolean> {
    return renewLease(this.pool, ref, leaseMs);
  }

  cancelRequested(buildId: string): Promise<boolean> {
    return cancelRequested(this.pool, buildId);
  }

  release(ref: AttemptRef): Promise<boolean> {
    return releaseAttempt(this.pool, ref);
  }

  abandonExhausted(deliveryLimit: number, graceMs: number): Promise<string[]> {
    return abandonExhausted(this.pool, this.notifications, deliveryLimit, graceMs);
  }

  recordCheckout(ref: AttemptRef, found: CheckoutFound): Promise<void> {
    return recordCheckout(this.pool, ref, found);
  }

  stageStarted(ref: AttemptRef, stage: Parameters<typeof stageStarted>[2]): Promise<void> {
    return stageStarted(this.pool, ref, stage);
  }

  stageFinished(ref: AttemptRef, stage: Parameters<typeof stageFinished>[2]): Promise<void> {
    return stageFinished(this.pool, ref, stage);
  }

  commandStarted(ref: AttemptRef, command: Parameters<typeof commandStarted>[2]): Promise<void> {
    return commandStarted(this.pool, ref, command);
  }

  commandFinished(ref: AttemptRef, command: Parameters<typeof commandFinished>[2]): Promise<void> {
    return commandFinished(this.pool, ref, command);
  }

  finish(ref: AttemptRef, result: BuildResult): Promise<boolean> {
    return finishAttempt(this.pool, this.notifications, this.owners, ref, result, this.analyst);
  }

  /**
   * Phases that end after the result is committed (record, ack, cleanup),
   * numbered after the ones the result carried. Best effort: the report has the rest.
   */
  async addPhases(ref: AttemptRef, origin: Date, phases: readonly PhaseTiming[], firstPosition: number): Promise<void> {
    await writePhases(this.pool, ref, origin, phases, firstPosition);
  }
}
