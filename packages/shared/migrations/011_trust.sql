-- Trust (issue 15): each build's SBOM and signed provenance, its SOURCE_DATE_EPOCH and its reproducibility check.
-- Signing keys are never stored here: only documents and the fingerprint of the key that signed them.
CREATE TABLE IF NOT EXISTS build_attestations (
  build_id   uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('sbom', 'provenance')),
  media_type text NOT NULL,
  sha256     text NOT NULL,
  -- Where the agent wrote it, next to the artifact (null when no artifact was written).
  path       text,
  signed_by  text,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (build_id, kind)
);

ALTER TABLE builds ADD COLUMN IF NOT EXISTS source_date_epoch bigint;
-- reproducible | unreproducible | error (the check itself could not run); null when not checked.
ALTER TABLE builds ADD COLUMN IF NOT EXISTS reproducibility text
  CHECK (reproducibility IN ('reproducible', 'unreproducible', 'error'));
-- {status, differing: [paths], differences: [{path, diff}], variations, durationMs}
ALTER TABLE builds ADD COLUMN IF NOT EXISTS reproducibility_report jsonb;
