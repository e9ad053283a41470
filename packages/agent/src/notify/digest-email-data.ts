import type { Queryable } from '@kiln/shared';
import type { FailureEmailData } from './failure-email-data.js';
import { loadFailureEmailData, type LogTailLimits } from './load-failure-email-data.js';

/** A digest: the failure emailed first, the builds that repeated it since, and the latest in full. */
export interface DigestEmailData {
  digestId: string;
  original: { buildId: string; label: string; emailedAt: Date };
  repeats: DigestRepeat[];
  latest: FailureEmailData;
}

export interface DigestRepeat {
  buildId: string;
  packageName: string | null;
  packageVersion: string | null;
  branch: string | null;
  commit: string | null;
  finishedAt: Date | null;
}

export async function loadDigestEmailData(
  db: Queryable,
  digestId: string,
  limits: LogTailLimits = {},
): Promise<DigestEmailData | null> {
  const head = (
    await db.query<{ build_id: string; original_build: string; emailed_at: Date; label: string }>(
      `SELECT d.build_id, o.build_id AS original_build, coalesce(o.sent_at, o.created_at) AS emailed_at,
              coalesce(ob.package_name || '-' || ob.package_version, ob.branch, ob.repo) AS label
         FROM notifications d
         JOIN notifications o ON o.id = d.repeat_of
         JOIN builds ob ON ob.id = o.build_id
        WHERE d.id = $1 AND d.kind = 'digest'`,
      [digestId],
    )
  ).rows[0];
  if (!head) return null;
  const repeats = await db.query<{
    build_id: string;
    package_name: string | null;
    package_version: string | null;
    branch: string | null;
    commit: string | null;
    finished_at: Date | null;
  }>(
    `SELECT n.build_id, b.package_name, b.package_version, b.branch, b.commit, b.finished_at
       FROM notifications n JOIN builds b ON b.id = n.build_id
      WHERE n.digest_id = $1
      ORDER BY b.finished_at, n.id`,
    [digestId],
  );
  const latest = await loadFailureEmailData(db, head.build_id, limits);
  if (!latest || repeats.rows.length === 0) return null;
  return {
    digestId,
    original: { buildId: head.original_build, label: head.label, emailedAt: head.emailed_at },
    repeats: repeats.rows.map((r) => ({
      buildId: r.build_id,
      packageName: r.package_name,
      packageVersion: r.package_version,
      branch: r.branch,
      commit: r.commit,
      finishedAt: r.finished_at,
    })),
    latest,
  };
}
