-- Every committed change to what kiln server answers from (builds and what
-- hangs off them, packages and their files) sends one notification on the
-- channel `kiln_changes`, whoever wrote it (an agent, the crawler, a CLI,
-- another server). PostgreSQL delivers it only after the commit and folds
-- repeats within a transaction into one, so a server that empties its answer
-- cache on it can never keep an answer from before a change it was told of.
-- Statement-level: a build's thousands of file rows cost one notification.
-- build_logs is left out on purpose: log chunks are frequent and no cached
-- answer reads them (logs are served from the database every time).
CREATE OR REPLACE FUNCTION kiln_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kiln_changes', TG_TABLE_NAME);
  RETURN NULL;
END $$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['builds', 'build_stages', 'build_commands', 'build_phases', 'build_attestations',
                           'build_diffs', 'packages', 'package_files', 'package_owners', 'image_packages']
  LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS kiln_notify_change ON %I', t);
    EXECUTE format('CREATE TRIGGER kiln_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
                      FOR EACH STATEMENT EXECUTE FUNCTION kiln_notify_change()', t);
  END LOOP;
END $$;
