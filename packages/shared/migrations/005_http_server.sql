-- kiln server: API tokens, cancelling builds, and the indexes its reads and searches need.
-- Written with IF NOT EXISTS where another migration of the same wave may add the same thing.

-- Bearer tokens for the HTTP API. Only a hash is kept: the token is printed once, by `kiln token create`.
CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  scope        text NOT NULL CHECK (scope IN ('read', 'submit', 'admin')),
  token_sha256 text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

-- Builds asked for through the API, and rebuilds of an earlier build.
ALTER TABLE builds DROP CONSTRAINT IF EXISTS builds_trigger_check;
ALTER TABLE builds ADD CONSTRAINT builds_trigger_check
  CHECK (trigger IN ('poll', 'webhook', 'hook', 'manual', 'cli', 'api', 'rebuild'));
ALTER TABLE builds ADD COLUMN IF NOT EXISTS rebuild_of uuid REFERENCES builds (id) ON DELETE SET NULL;
-- Set by `POST /builds/{id}/cancel` on a running build; the agent that runs it stops it.
ALTER TABLE builds ADD COLUMN IF NOT EXISTS cancel_requested_at timestamptz;

-- Keyset pagination of the build list, whole and filtered.
CREATE INDEX IF NOT EXISTS builds_queued_at_id_idx ON builds (queued_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS builds_status_queued_idx ON builds (status, queued_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS builds_package_queued_idx ON builds (package_name, queued_at DESC, id DESC);

-- The SONAME a shared library provides (DT_SONAME), for "who provides libz.so.1".
ALTER TABLE package_files ADD COLUMN IF NOT EXISTS soname text;

-- Searches over the files of current packages: by installed path, SONAME, needed library and sha256.
CREATE INDEX IF NOT EXISTS packages_build_id_idx ON packages (build_id);
CREATE INDEX IF NOT EXISTS package_files_path_idx ON package_files (path);
CREATE INDEX IF NOT EXISTS package_files_soname_idx ON package_files (soname) WHERE soname IS NOT NULL;
CREATE INDEX IF NOT EXISTS package_files_needed_idx ON package_files USING gin (needed);
CREATE INDEX IF NOT EXISTS package_files_sha256_idx ON package_files (sha256) WHERE sha256 IS NOT NULL;
