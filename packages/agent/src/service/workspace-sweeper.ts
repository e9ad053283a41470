import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger, Queryable } from '@kiln/shared';

const WORKSPACE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(\d+)$/;

/**
 * Removes checkouts that an agent killed mid-build left in the work folder.
 * Agents of one host may share the folder, so a checkout goes only when its
 * attempt is over by the database: finished, retaken, or its lease ran out.
 */
export async function sweepWorkspaces(db: Queryable, workDir: string, logger: Logger): Promise<number> {
  const entries = await readdir(workDir).catch(() => [] as string[]);
  const found = entries.map((name) => ({ name, match: WORKSPACE.exec(name) })).filter((e) => e.match);
  if (found.length === 0) return 0;
  const live = await db.query<{ id: string; attempt: number }>(
    `SELECT id::text AS id, attempt FROM builds
      WHERE id = ANY($1::uuid[]) AND status = 'running' AND lease_expires_at > now()`,
    [found.map((e) => e.match?.[1])],
  );
  const keep = new Set(live.rows.map((r) => `${r.id}-${r.attempt}`));
  let removed = 0;
  for (const { name } of found) {
    if (keep.has(name)) continue;
    await rm(path.join(workDir, name), { recursive: true, force: true }).then(
      () => removed++,
      (err: unknown) => logger.warn({ err, workspace: name }, 'could not remove a stale workspace'),
    );
  }
  return removed;
}
