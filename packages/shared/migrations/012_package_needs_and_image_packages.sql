-- "Who needs libz.so.1": one row per needed library per file, keyed by the
-- SONAME and ordered as the search answers (package name, version, path), so
-- that a library thousands of files need is answered by reading the first
-- page of one index instead of fetching and sorting every match.
-- Kept by triggers on package_files, whoever writes it.
CREATE TABLE IF NOT EXISTS package_needs (
  soname          text NOT NULL,
  package_name    text NOT NULL,
  package_version text NOT NULL,
  path            text NOT NULL,
  build_id        uuid NOT NULL,
  PRIMARY KEY (build_id, path, soname)
);
CREATE INDEX IF NOT EXISTS package_needs_soname_idx
  ON package_needs (soname, package_name, package_version, path, build_id);

-- The build's package name and version are written before its files (same transaction).
CREATE OR REPLACE FUNCTION package_needs_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO package_needs (soname, package_name, package_version, path, build_id)
  SELECT DISTINCT n.soname, b.package_name, b.package_version, f.path, f.build_id
    FROM added_files f JOIN builds b ON b.id = f.build_id, unnest(f.needed) AS n(soname)
   WHERE b.package_name IS NOT NULL AND b.package_version IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION package_needs_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM package_needs n USING removed_files f WHERE n.build_id = f.build_id AND n.path = f.path;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION package_needs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM package_needs WHERE build_id = OLD.build_id AND path = OLD.path;
  INSERT INTO package_needs (soname, package_name, package_version, path, build_id)
  SELECT DISTINCT n.soname, b.package_name, b.package_version, NEW.path, NEW.build_id
    FROM builds b, unnest(NEW.needed) AS n(soname)
   WHERE b.id = NEW.build_id AND b.package_name IS NOT NULL AND b.package_version IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS package_needs_added ON package_files;
CREATE TRIGGER package_needs_added AFTER INSERT ON package_files
  REFERENCING NEW TABLE AS added_files FOR EACH STATEMENT EXECUTE FUNCTION package_needs_added();
DROP TRIGGER IF EXISTS package_needs_removed ON package_files;
CREATE TRIGGER package_needs_removed AFTER DELETE ON package_files
  REFERENCING OLD TABLE AS removed_files FOR EACH STATEMENT EXECUTE FUNCTION package_needs_removed();
DROP TRIGGER IF EXISTS package_needs_changed ON package_files;
CREATE TRIGGER package_needs_changed AFTER UPDATE OF needed, path, build_id ON package_files
  FOR EACH ROW WHEN (OLD.needed IS DISTINCT FROM NEW.needed OR OLD.path <> NEW.path OR OLD.build_id <> NEW.build_id)
  EXECUTE FUNCTION package_needs_changed();

INSERT INTO package_needs (soname, package_name, package_version, path, build_id)
SELECT DISTINCT n.soname, b.package_name, b.package_version, f.path, f.build_id
  FROM package_files f JOIN builds b ON b.id = f.build_id, unnest(f.needed) AS n(soname)
 WHERE b.package_name IS NOT NULL AND b.package_version IS NOT NULL
ON CONFLICT DO NOTHING;

-- The packages a build image holds (dpkg-query), read once per image digest:
-- the library packages a static executable compiled in it may embed, which
-- a build with static executables records in builds.static_built_using (009).
CREATE TABLE IF NOT EXISTS image_packages (
  image_digest text PRIMARY KEY,
  packages     jsonb NOT NULL,
  read_at      timestamptz NOT NULL DEFAULT now()
);
