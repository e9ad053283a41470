import type { BuildReport, Queryable } from '@kiln/shared';
import type { TrustDocument } from './attest.js';

/**
 * Records a build's trust facts in the result's transaction: its SBOM and
 * provenance (replacing an earlier attempt's), its SOURCE_DATE_EPOCH and its
 * reproducibility check.
 */
export async function recordTrust(
  db: Queryable,
  buildId: string,
  report: BuildReport,
  documents: readonly TrustDocument[],
): Promise<void> {
  await db.query('DELETE FROM build_attestations WHERE build_id = $1', [buildId]);
  if (report.status === 'succeeded' && documents.length > 0) {
    await db.query(
      `INSERT INTO build_attestations (build_id, kind, media_type, sha256, path, signed_by, body)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
      [
        buildId,
        documents.map((d) => d.kind),
        documents.map((d) => d.mediaType),
        documents.map((d) => d.sha256),
        documents.map((d) => d.path),
        documents.map((d) => d.signedBy ?? null),
        documents.map((d) => d.body),
      ],
    );
  }
  const check = report.reproducibility;
  await db.query(
    'UPDATE builds SET source_date_epoch = $2, reproducibility = $3, reproducibility_report = $4::jsonb WHERE id = $1',
    [buildId, report.sourceDateEpoch ?? null, check?.status ?? null, check ? JSON.stringify(check) : null],
  );
}
