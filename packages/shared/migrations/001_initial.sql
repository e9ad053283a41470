-- Kiln's package database. Applied by `kiln migrate`; never edit an applied file, add a new one.

CREATE TABLE builds (
  id              uuid PRIMARY KEY,
  repo            text NOT NULL,
  branch          text,
  commit          text,
  package_name    text,
  package_version text,
  trigger         text NOT NULL DEFAULT 'manual'
                  CHECK (trigger IN ('poll', 'webhook', 'hook', 'manual', 'cli')),
  status          text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'errored', 'cancelled')),
  attempt         integer NOT NULL DEFAULT 0,
  agent           text,
  -- A running attempt renews its lease; an attempt whose lease ran out is dead.
  heartbeat_at    timestamptz,
  lease_expires_at timestamptz,
  queued_at       timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz,
  duration_ms     bigint,
  error           text,
  failed_stage    text,
  failed_command  text,
  exit_code       integer,
  manifest        jsonb,
  report          jsonb
);
CREATE INDEX builds_status_idx ON builds (status);
CREATE INDEX builds_repo_branch_idx ON builds (repo, branch);
CREATE INDEX builds_package_idx ON builds (package_name, package_version);
CREATE INDEX builds_queued_at_idx ON builds (queued_at DESC);

CREATE TABLE build_stages (
  build_id    uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  position    integer NOT NULL,
  name        text NOT NULL,
  image       text,
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'errored', 'skipped', 'cancelled')),
  exit_code   integer,
  started_at  timestamptz,
  duration_ms bigint,
  error       text,
  PRIMARY KEY (build_id, position)
);

CREATE TABLE build_commands (
  build_id       uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  stage_position integer NOT NULL,
  position       integer NOT NULL,
  command        text NOT NULL,
  exit_code      integer,
  started_at     timestamptz,
  duration_ms    bigint,
  PRIMARY KEY (build_id, stage_position, position)
);

CREATE TABLE build_logs (
  build_id   uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  attempt    integer NOT NULL,
  seq        integer NOT NULL,
  stage      text,
  stream     text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  chunk      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (build_id, attempt, seq)
);

CREATE TABLE packages (
  name           text NOT NULL,
  version        text NOT NULL,
  build_id       uuid NOT NULL REFERENCES builds (id),
  installed_size bigint NOT NULL,
  file_count     integer NOT NULL,
  payload_sha256 text,
  artifact       text,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);

CREATE TABLE package_files (
  build_id uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  path     text NOT NULL,
  size     bigint NOT NULL,
  mode     text NOT NULL,
  sha256   text,
  kind     text NOT NULL
           CHECK (kind IN ('executable', 'shared-library', 'static-library', 'config', 'symlink', 'other')),
  linkage  text CHECK (linkage IN ('static', 'dynamic')),
  needed   text[],
  target   text,
  PRIMARY KEY (build_id, path)
);

CREATE TABLE repo_refs (
  repo            text NOT NULL,
  branch          text NOT NULL,
  commit          text NOT NULL,
  package_name    text NOT NULL,
  package_version text NOT NULL,
  first_seen_at   timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  PRIMARY KEY (repo, branch)
);

-- Jobs the crawler has decided on but not yet seen confirmed by the broker.
CREATE TABLE job_outbox (
  build_id     uuid PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  published_at timestamptz
);
CREATE INDEX job_outbox_unpublished_idx ON job_outbox (created_at) WHERE published_at IS NULL;

CREATE TABLE notifications (
  id              bigserial PRIMARY KEY,
  build_id        uuid NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  kind            text NOT NULL DEFAULT 'failure' CHECK (kind IN ('failure', 'success', 'digest')),
  recipient       text,
  subject         text,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'refused', 'failed', 'suppressed')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  UNIQUE (build_id, kind)
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
