import type { BuildStatus, Queryable, Trigger } from '@kiln/shared';
import { ApiError, notFound } from '../http/api-error.js';
import type { LiveEvents } from '../live/live-feed.js';

/** Submits a job (records a queued build and publishes it): `submitBuild` of @kiln/crawler in production. */
export interface BuildSubmitter {
  submit(request: {
    repo: string;
    branch?: string;
    commit?: string;
    /** Build for this Debian arch only; absent: every arch the manifest lists. */
    arch?: string;
    trigger: Trigger;
  }): Promise<{ id: string; recorded: boolean; published: boolean; warnings: string[] }>;
}

/**
 * Cancels a build. A queued one is cancelled at once (an agent that later
 * receives its job finds it finished and acks it). A running one is flagged
 * in the database and its agent told through the events exchange; the agent
 * stops its containers and records it `cancelled`.
 */
export async function cancelBuild(
  db: Queryable,
  live: LiveEvents,
  id: string,
  by: string,
): Promise<{ status: BuildStatus }> {
  const queued = await db.query(
    `UPDATE builds SET status = 'cancelled', finished_at = now(), cancel_requested_at = now(),
            error = $2, duration_ms = 0
      WHERE id = $1 AND status = 'queued'`,
    [id, `cancelled by ${by} before it started`],
  );
  if ((queued.rowCount ?? 0) > 0) return { status: 'cancelled' };
  const running = await db.query(
    `UPDATE builds SET cancel_requested_at = COALESCE(cancel_requested_at, now())
      WHERE id = $1 AND status = 'running'`,
    [id],
  );
  if ((running.rowCount ?? 0) > 0) {
    live.publishCancel(id);
    return { status: 'running' };
  }
  const { rows } = await db.query<{ status: BuildStatus }>('SELECT status FROM builds WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) throw notFound(`build ${id}`);
  throw new ApiError(409, 'conflict', `build ${id} is ${row.status}: there is nothing to cancel`);
}

/** A new build of the same repository, branch and commit as `id`. */
export async function rebuild(
  db: Queryable,
  submitter: BuildSubmitter,
  id: string,
): Promise<{ id: string; published: boolean; warnings: string[] }> {
  const { rows } = await db.query<{ repo: string; branch: string | null; commit: string | null; arch: string | null }>(
    'SELECT repo, branch, commit, arch FROM builds WHERE id = $1',
    [id],
  );
  const original = rows[0];
  if (!original) throw notFound(`build ${id}`);
  const result = await submitter.submit({
    repo: original.repo,
    ...(original.branch ? { branch: original.branch } : {}),
    ...(original.commit ? { commit: original.commit } : {}),
    // The same arch again: a rebuild of the arm64 build is not a rebuild of every arch.
    ...(original.arch ? { arch: original.arch } : {}),
    trigger: 'rebuild',
  });
  if (result.recorded) await db.query('UPDATE builds SET rebuild_of = $2 WHERE id = $1', [result.id, id]);
  return result;
}
