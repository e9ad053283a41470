-- Every build is for one Debian arch, and a package is one (name, version, arch).
-- Rows from before had no arch: they were built for the host's, which the
-- migration runner passes in as the setting kiln.host_arch (`kiln migrate`
-- sets it from the host it runs on; amd64 when unset).
ALTER TABLE builds ADD COLUMN IF NOT EXISTS arch text;
-- A queued build's arch is decided when its job is routed (the manifest's
-- list, or the job's own arch): until then it stays null.
UPDATE builds SET arch = COALESCE(NULLIF(current_setting('kiln.host_arch', true), ''), 'amd64')
 WHERE arch IS NULL AND status <> 'queued';
CREATE INDEX IF NOT EXISTS builds_arch_queued_at_idx ON builds (arch, queued_at DESC);

ALTER TABLE packages ADD COLUMN IF NOT EXISTS arch text;
UPDATE packages p SET arch = COALESCE(b.arch, NULLIF(current_setting('kiln.host_arch', true), ''), 'amd64')
  FROM builds b WHERE b.id = p.build_id AND p.arch IS NULL;
ALTER TABLE packages ALTER COLUMN arch SET NOT NULL;
ALTER TABLE packages DROP CONSTRAINT IF EXISTS packages_pkey;
ALTER TABLE packages ADD PRIMARY KEY (name, version, arch);
