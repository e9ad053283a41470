-- Change notifications that say which builds changed, and none for lease
-- renewals.
--
-- Under migration 017 a notification named only the table, so a server let
-- go of every kept build answer whenever any build wrote a stage row; and a
-- running build's agent renews its lease every few seconds (heartbeat_at,
-- lease_expires_at and nothing else), which notified `builds` each time.
--
-- Now, for the tables whose rows belong to one build, the payload is the
-- table, a space and the ids of the builds whose rows changed (old and new
-- rows alike, comma-separated), or the table alone when a statement touched
-- more than 50 builds (or a row without a build): the listener then treats
-- it as a change to every build. A statement that changed no row sends
-- nothing. An update of builds that changed only heartbeat_at and
-- lease_expires_at sends nothing: no kept answer shows those columns except
-- through `stalled`, which turns with time alone (answers of running builds
-- are kept for 2 s at most). Inserts, updates and deletes each need their own
-- trigger (PostgreSQL allows transition tables on single-event triggers
-- only); TRUNCATE keeps migration 017's plain notification. build_logs stays
-- silent, as before.
CREATE OR REPLACE FUNCTION kiln_notify_build_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  col CONSTANT text := TG_ARGV[0];
  ids text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('SELECT array_agg(DISTINCT %I::text) FROM new_rows', col) INTO ids;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT %I::text) FROM old_rows', col) INTO ids;
  ELSIF TG_TABLE_NAME = 'builds' THEN
    SELECT array_agg(DISTINCT COALESCE(n.id, o.id)::text) INTO ids
      FROM new_rows n
      FULL JOIN old_rows o ON o.id = n.id
     WHERE o.id IS NULL OR n.id IS NULL
        OR to_jsonb(n) - '{heartbeat_at,lease_expires_at}'::text[]
           IS DISTINCT FROM to_jsonb(o) - '{heartbeat_at,lease_expires_at}'::text[];
  ELSE
    EXECUTE format('SELECT array_agg(DISTINCT r.%1$I::text) FROM (SELECT %1$I FROM new_rows UNION ALL SELECT %1$I FROM old_rows) r',
                   col) INTO ids;
  END IF;
  IF ids IS NULL THEN
    RETURN NULL;
  ELSIF cardinality(ids) <= 50 AND array_position(ids, NULL) IS NULL THEN
    PERFORM pg_notify('kiln_changes', TG_TABLE_NAME || ' ' || array_to_string(ids, ','));
  ELSE
    PERFORM pg_notify('kiln_changes', TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END $$;

DO $$
DECLARE
  t text;
  col text;
BEGIN
  FOREACH t IN ARRAY ARRAY['builds', 'build_stages', 'build_commands', 'build_phases', 'build_attestations',
                           'build_diffs', 'packages', 'package_files']
  LOOP
    col := CASE WHEN t = 'builds' THEN 'id' ELSE 'build_id' END;
    EXECUTE format('DROP TRIGGER IF EXISTS kiln_notify_change ON %I', t);
    EXECUTE format('CREATE TRIGGER kiln_notify_change AFTER TRUNCATE ON %I
                      FOR EACH STATEMENT EXECUTE FUNCTION kiln_notify_change()', t);
    EXECUTE format('CREATE TRIGGER kiln_notify_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION kiln_notify_build_rows(%L)', t, col);
    EXECUTE format('CREATE TRIGGER kiln_notify_update AFTER UPDATE ON %I
                      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION kiln_notify_build_rows(%L)', t, col);
    EXECUTE format('CREATE TRIGGER kiln_notify_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION kiln_notify_build_rows(%L)', t, col);
  END LOOP;
END $$;
