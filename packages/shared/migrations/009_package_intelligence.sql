-- Package intelligence: ELF facts per file, what a package provides and needs,
-- what each build changed, and rebuilding dependents by real linkage.

-- DESIGN.md "ELF facts per file" (soname and needed are already here).
ALTER TABLE package_files
  ADD COLUMN IF NOT EXISTS runpath  text,
  ADD COLUMN IF NOT EXISTS pie      boolean,
  ADD COLUMN IF NOT EXISTS relro    text CHECK (relro IN ('none', 'partial', 'full')),
  ADD COLUMN IF NOT EXISTS bind_now boolean,
  ADD COLUMN IF NOT EXISTS nx_stack boolean,
  ADD COLUMN IF NOT EXISTS stripped boolean,
  ADD COLUMN IF NOT EXISTS setuid   boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS setgid   boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS gnu_build_id text;

-- The SONAMEs a build image's own libraries provide (its dynamic linker's
-- cache), read once per image digest: a need they satisfy is resolved.
CREATE TABLE IF NOT EXISTS image_libraries (
  image_digest text PRIMARY KEY,
  sonames      text[] NOT NULL,
  read_at      timestamptz NOT NULL DEFAULT now()
);

-- What each build changed against an earlier one, stored once when it is recorded.
CREATE TABLE IF NOT EXISTS build_diffs (
  build_id   uuid PRIMARY KEY REFERENCES builds (id) ON DELETE CASCADE,
  against_id uuid REFERENCES builds (id) ON DELETE SET NULL,
  diff       jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS build_diffs_against_idx ON build_diffs (against_id);

-- Needs no package and no image provides: [{soname, files}].
ALTER TABLE builds ADD COLUMN IF NOT EXISTS unresolved_needs jsonb;

-- Rebuilds of dependents: the build whose change queued this one.
ALTER TABLE builds ADD COLUMN IF NOT EXISTS triggered_by uuid REFERENCES builds (id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS builds_triggered_by_idx ON builds (triggered_by) WHERE triggered_by IS NOT NULL;
ALTER TABLE builds DROP CONSTRAINT IF EXISTS builds_trigger_check;
ALTER TABLE builds ADD CONSTRAINT builds_trigger_check
  CHECK (trigger IN ('poll', 'webhook', 'hook', 'manual', 'cli', 'api', 'rebuild', 'dependency'));

-- Static executables: the compiler image's library packages they may embed
-- (`Static-Built-Using`): [{name, version}].
ALTER TABLE builds ADD COLUMN IF NOT EXISTS static_built_using jsonb;
CREATE INDEX IF NOT EXISTS builds_static_built_using_idx ON builds USING gin (static_built_using jsonb_path_ops)
  WHERE static_built_using IS NOT NULL;

