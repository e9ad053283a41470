-- "Who needs libz.so.1" answers from current packages only. Each package_needs
-- row now carries `current_arch`: the arch of the package (name, version,
-- arch) whose current build (packages.build_id) is the row's build, and null
-- while the build is no package's current build (replaced by a hotfix, not
-- recorded yet, failed). The search then reads the current rows of one SONAME
-- straight from one partial index, in answer order, with the arch, instead of
-- looking up the packages row of every needing file and skipping old builds.
-- Kept by triggers on packages (whoever writes it) and on package_files.
ALTER TABLE package_needs ADD COLUMN IF NOT EXISTS current_arch text;

UPDATE package_needs n SET current_arch = p.arch
  FROM packages p
 WHERE p.build_id = n.build_id AND p.name = n.package_name AND p.version = n.package_version
   AND n.current_arch IS DISTINCT FROM p.arch;

-- Replaces 012's index (build_id rode along as a key column): every reader of
-- package_needs by SONAME wants current packages only.
DROP INDEX IF EXISTS package_needs_soname_idx;
CREATE INDEX IF NOT EXISTS package_needs_current_idx
  ON package_needs (soname, package_name, package_version, path, current_arch) INCLUDE (build_id)
  WHERE current_arch IS NOT NULL;

-- Files are usually written before their package row (same transaction); a
-- row written after it (or rewritten) finds it here.
CREATE OR REPLACE FUNCTION package_needs_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO package_needs (soname, package_name, package_version, path, build_id, current_arch)
  SELECT DISTINCT n.soname, b.package_name, b.package_version, f.path, f.build_id, p.arch
    FROM added_files f
    JOIN builds b ON b.id = f.build_id
    LEFT JOIN packages p ON p.build_id = f.build_id AND p.name = b.package_name AND p.version = b.package_version
   CROSS JOIN LATERAL unnest(f.needed) AS n(soname)
   WHERE b.package_name IS NOT NULL AND b.package_version IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION package_needs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM package_needs WHERE build_id = OLD.build_id AND path = OLD.path;
  INSERT INTO package_needs (soname, package_name, package_version, path, build_id, current_arch)
  SELECT DISTINCT n.soname, b.package_name, b.package_version, NEW.path, NEW.build_id,
         (SELECT min(p.arch) FROM packages p
           WHERE p.build_id = NEW.build_id AND p.name = b.package_name AND p.version = b.package_version)
    FROM builds b, unnest(NEW.needed) AS n(soname)
   WHERE b.id = NEW.build_id AND b.package_name IS NOT NULL AND b.package_version IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- A packages row added, changed (a hotfix points it at a newer build) or
-- removed: the needs of the builds it pointed at and now points at are
-- marked again. Statement-level: a bulk write costs two joins, not a
-- lookup per row.
CREATE OR REPLACE FUNCTION package_needs_packages_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE package_needs n SET current_arch = p.arch
    FROM added_packages p
   WHERE n.build_id = p.build_id AND n.package_name = p.name AND n.package_version = p.version
     AND n.current_arch IS DISTINCT FROM p.arch;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION package_needs_packages_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE package_needs n SET current_arch = NULL
    FROM (SELECT DISTINCT build_id FROM removed_packages) o
   WHERE n.build_id = o.build_id AND n.current_arch IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM packages p WHERE p.build_id = n.build_id AND p.name = n.package_name
                        AND p.version = n.package_version AND p.arch = n.current_arch);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION package_needs_packages_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE package_needs n SET current_arch = NULL
    FROM (SELECT DISTINCT build_id FROM old_packages) o
   WHERE n.build_id = o.build_id AND n.current_arch IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM packages p WHERE p.build_id = n.build_id AND p.name = n.package_name
                        AND p.version = n.package_version AND p.arch = n.current_arch);
  UPDATE package_needs n SET current_arch = p.arch
    FROM new_packages p
   WHERE n.build_id = p.build_id AND n.package_name = p.name AND n.package_version = p.version
     AND n.current_arch IS DISTINCT FROM p.arch;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS package_needs_packages_added ON packages;
CREATE TRIGGER package_needs_packages_added AFTER INSERT ON packages
  REFERENCING NEW TABLE AS added_packages FOR EACH STATEMENT EXECUTE FUNCTION package_needs_packages_added();
DROP TRIGGER IF EXISTS package_needs_packages_removed ON packages;
CREATE TRIGGER package_needs_packages_removed AFTER DELETE ON packages
  REFERENCING OLD TABLE AS removed_packages FOR EACH STATEMENT EXECUTE FUNCTION package_needs_packages_removed();
DROP TRIGGER IF EXISTS package_needs_packages_changed ON packages;
CREATE TRIGGER package_needs_packages_changed AFTER UPDATE ON packages
  REFERENCING OLD TABLE AS old_packages NEW TABLE AS new_packages
  FOR EACH STATEMENT EXECUTE FUNCTION package_needs_packages_changed();
