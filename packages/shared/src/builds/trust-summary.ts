import type { Queryable } from '../db/queryable.js';
import type { Attestation, ReproducibilityCheck } from '../report.js';

/** What the database knows about a build's trust: its SOURCE_DATE_EPOCH, documents and reproducibility. */
export interface TrustSummary {
  sourceDateEpoch: number | null;
  attestations: Attestation[];
  reproducibility: ReproducibilityCheck | null;
}

export async function readTrustSummary(db: Queryable, buildId: string): Promise<TrustSummary | null> {
  const { rows } = await db.query<{
    source_date_epoch: string | null;
    reproducibility_report: ReproducibilityCheck | null;
    attestations: Array<{
      kind: Attestation['kind'];
      media_type: string;
      path: string | null;
      sha256: string;
      signed_by: string | null;
    }> | null;
  }>(
    `SELECT b.source_date_epoch::text, b.reproducibility_report,
            (SELECT json_agg(json_build_object('kind', a.kind, 'media_type', a.media_type, 'path', a.path,
                                               'sha256', a.sha256, 'signed_by', a.signed_by) ORDER BY a.kind)
               FROM build_attestations a WHERE a.build_id = b.id) AS attestations
       FROM builds b WHERE b.id = $1`,
    [buildId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    sourceDateEpoch: row.source_date_epoch === null ? null : Number(row.source_date_epoch),
    attestations: (row.attestations ?? []).map((a) => ({
      kind: a.kind,
      mediaType: a.media_type,
      path: a.path,
      sha256: a.sha256,
      ...(a.signed_by ? { signedBy: a.signed_by } : {}),
    })),
    reproducibility: row.reproducibility_report,
  };
}

/** The lines `kiln status <id>` shows about it. */
export function describeTrust(trust: TrustSummary): string[] {
  const lines: string[] = [];
  if (trust.sourceDateEpoch !== null) {
    lines.push(
      `source date ${trust.sourceDateEpoch} (${new Date(trust.sourceDateEpoch * 1000).toISOString()}, SOURCE_DATE_EPOCH)`,
    );
  }
  for (const a of trust.attestations) {
    const signed = a.signedBy ? `, signed by ${a.signedBy}` : '';
    lines.push(`${a.kind.padEnd(10)} ${a.path ?? '(recorded only)'}${signed}`);
  }
  const check = trust.reproducibility;
  if (check) {
    const detail =
      check.status === 'unreproducible'
        ? `: ${check.differing.length} file(s) differ`
        : check.status === 'error'
          ? `: ${check.error ?? ''}`
          : '';
    lines.push(`reproducible? ${check.status}${detail}`);
    for (const p of check.differing.slice(0, 20)) lines.push(`  ${p}`);
    if (check.differing.length > 20) lines.push(`  … and ${check.differing.length - 20} more`);
    for (const d of check.differences ?? []) {
      lines.push(`  --- ${d.path}`);
      lines.push(
        ...d.diff
          .split('\n')
          .slice(0, 40)
          .map((l) => `  ${l}`),
      );
    }
  }
  return lines;
}
