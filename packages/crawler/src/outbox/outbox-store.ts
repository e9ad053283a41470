import { QUEUED_BUILD_COLUMNS, queuedBuildValues, type BuildJob, type Queryable } from '@kiln/shared';

/**
 * The transactional outbox. A job is first written here, in the same
 * transaction as its `queued` build row; a relay then publishes it and marks
 * it published. Delivery is therefore at least once: a crash after RabbitMQ
 * confirmed the message but before `published_at` was written publishes the
 * same job (same id) again on restart. The build id is the idempotency key:
 * an agent that receives a job whose build is already running or finished
 * acks it without building. No job is ever lost, and no head ever gets two
 * build ids.
 */
export interface OutboxEntry {
  buildId: string;
  job: BuildJob;
}

/** Records a queued build and its outbox entry (for jobs not born from a ref change, such as `kiln submit`). */
export async function enqueueBuild(db: Queryable, job: BuildJob & { id: string }): Promise<void> {
  await db.query(
    `WITH queued AS (
       INSERT INTO builds (${QUEUED_BUILD_COLUMNS}, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued') RETURNING id)
     INSERT INTO job_outbox (build_id, payload) SELECT id, $9::jsonb FROM queued`,
    [...queuedBuildValues(job), JSON.stringify(job)],
  );
}

/**
 * Locks up to `limit` unpublished entries, oldest first. SKIP LOCKED lets two
 * relays (two crawlers, or a crawler and `kiln submit`) share the backlog
 * without publishing one entry twice while both are alive.
 */
export async function claimUnpublished(db: Queryable, limit: number): Promise<OutboxEntry[]> {
  const { rows } = await db.query<{ build_id: string; payload: BuildJob }>(
    `SELECT build_id, payload FROM job_outbox WHERE published_at IS NULL
      ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => ({ buildId: r.build_id, job: r.payload }));
}

export async function markPublished(db: Queryable, buildIds: string[]): Promise<void> {
  if (buildIds.length === 0) return;
  await db.query(
    'UPDATE job_outbox SET published_at = now(), attempts = attempts + 1 WHERE build_id = ANY($1::uuid[])',
    [buildIds],
  );
}

export async function markFailed(db: Queryable, buildIds: string[], error: string): Promise<void> {
  if (buildIds.length === 0) return;
  await db.query('UPDATE job_outbox SET attempts = attempts + 1, last_error = $2 WHERE build_id = ANY($1::uuid[])', [
    buildIds,
    error.slice(0, 1000),
  ]);
}

export async function countUnpublished(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM job_outbox WHERE published_at IS NULL',
  );
  return Number(rows[0]?.n ?? 0);
}
