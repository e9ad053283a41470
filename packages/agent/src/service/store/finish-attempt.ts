import {
  claimPackage,
  repoIdentity,
  withTransaction,
  type ConfiguredOwners,
  type Database,
  type Queryable,
} from '@kiln/shared';
import type { FailureNotifications } from '../failure-notifications.js';
import { ownershipRefusal } from '../ownership-refusal.js';
import type { AttemptRef, BuildResult } from './attempt.js';
import { completeStages } from './complete-stages.js';
import { replaceLog } from './log-rows.js';
import { writePackage } from './package-rows.js';
import { writePhases } from './phase-rows.js';
import { recordTrust } from '../../trust/record-attestations.js';
import type { BuildAnalyst } from '../../intel/build-analyst.js';

/**
 * Writes the attempt's result in ONE transaction: the row, stages, commands,
 * the package and its files, and the failure email's queue entry. Returns
 * false (and writes nothing) when a newer attempt owns the build.
 */
export async function finishAttempt(
  pool: Database,
  notifications: FailureNotifications,
  owners: ConfiguredOwners,
  ref: AttemptRef,
  result: BuildResult,
  analyst?: BuildAnalyst,
): Promise<boolean> {
  const sonames = (await analyst?.buildImageSonames(pool, result.report)) ?? [];
  const embedded = (await analyst?.staticBuiltUsing(pool, result.report)) ?? null;
  return withTransaction(pool, async (db) => {
    let { report } = result;
    if (report.status === 'succeeded' && report.install && result.package) {
      // The authoritative check: two first builds of one name from two repositories take turns here.
      const repo = await repoOf(db, ref.buildId);
      const claim = await claimPackage(db, result.package.name, repo, owners);
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
    const analysed = await analyst?.analyse(db, ref.buildId, report, result.manifest, sonames, embedded);
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
    await completeStages(db, ref, { ...result, report });
    if (result.log) await replaceLog(db, ref, result.log);
    if (report.timings?.length) await writePhases(db, ref, result.timingsOrigin ?? new Date(), report.timings, 0);
    if (report.status === 'succeeded' && report.install && result.package) {
      await writePackage(db, ref.buildId, result.package, report);
    }
    await recordTrust(db, ref.buildId, report, result.documents ?? []);
    if (analysed) await analyst?.record(db, ref.buildId, analysed);
    const notification = { buildId: ref.buildId, maintainer: result.maintainer, commitAuthor: result.commitAuthor };
    if (report.status === 'failed' || report.status === 'errored') await notifications.queue(db, notification);
    if (report.status === 'succeeded') await notifications.queueSuccess?.(db, notification);
    return true;
  });
}

/** The build's repository, as ownership knows it (the stored location is already without credentials). */
async function repoOf(db: Queryable, buildId: string): Promise<string> {
  const { rows } = await db.query<{ repo: string }>('SELECT repo FROM builds WHERE id = $1', [buildId]);
  return repoIdentity(rows[0]?.repo ?? '');
}
