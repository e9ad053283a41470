import type { Queryable } from '@kiln/shared';
import { loadFailureEmailData } from './load-failure-email-data.js';
import type { SuccessEmailData } from './render-success-email.js';

/** What a success email says: the build's rows, and what its package installs. */
export async function loadSuccessEmailData(db: Queryable, buildId: string): Promise<SuccessEmailData | null> {
  const build = await loadFailureEmailData(db, buildId, { lines: 0 });
  if (!build) return null;
  const { logTail: _tail, logTruncated: _truncated, ...rest } = build;
  const pkg = (
    await db.query<{ installed_size: string; file_count: number; artifact: string | null }>(
      `SELECT installed_size::text AS installed_size, file_count, artifact FROM packages WHERE build_id = $1 LIMIT 1`,
      [buildId],
    )
  ).rows[0];
  return {
    ...rest,
    installed: pkg
      ? { sizeBytes: Number(pkg.installed_size), fileCount: pkg.file_count, artifact: pkg.artifact }
      : null,
  };
}
