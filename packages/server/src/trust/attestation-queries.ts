import type { Queryable } from '@kiln/shared';

export interface StoredAttestation {
  mediaType: string;
  sha256: string;
  body: string;
}

/** A build's recorded SBOM or provenance, byte for byte as the agent wrote it; null when there is none. */
export async function readAttestation(
  db: Queryable,
  buildId: string,
  kind: 'sbom' | 'provenance',
): Promise<StoredAttestation | null> {
  const { rows } = await db.query<{ media_type: string; sha256: string; body: string }>(
    'SELECT media_type, sha256, body FROM build_attestations WHERE build_id = $1 AND kind = $2',
    [buildId, kind],
  );
  const row = rows[0];
  return row ? { mediaType: row.media_type, sha256: row.sha256, body: row.body } : null;
}
