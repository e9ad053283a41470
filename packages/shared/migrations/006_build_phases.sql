-- Where a build's time went: one row per phase of an attempt (queue wait, claim, checkout, manifest,
-- image, prepare, each stage, install, inspection, artifact, cleanup, record, ack), in milliseconds.
-- Phases may overlap (checkout with container set-up, cleanup with record): started_at says when.
CREATE TABLE IF NOT EXISTS build_phases (
  build_id    uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  position    integer NOT NULL,
  phase       text NOT NULL,
  stage       text,
  started_at  timestamptz NOT NULL,
  duration_ms bigint NOT NULL,
  PRIMARY KEY (build_id, attempt, position)
);
