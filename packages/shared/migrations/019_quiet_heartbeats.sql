-- A running build's agent renews its lease every few seconds (heartbeat_at,
-- lease_expires_at and nothing else). Under migration 017 each renewal
-- notified `kiln_changes` for `builds`, so on a busy farm every server let
-- go of its build answers several times a second for nothing an answer
-- shows but those two columns (answers of running builds are kept for 2 s
-- at most, for `stalled`, which turns with time alone). An update of builds
-- now notifies only when a row changed in some other column, or a row came
-- or went; inserts, deletes and truncation notify as before.
DROP TRIGGER IF EXISTS kiln_notify_change ON builds;
CREATE TRIGGER kiln_notify_change AFTER INSERT OR DELETE OR TRUNCATE ON builds
  FOR EACH STATEMENT EXECUTE FUNCTION kiln_notify_change();

CREATE OR REPLACE FUNCTION kiln_notify_build_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1
               FROM new_rows n
               FULL JOIN old_rows o ON o.id = n.id
              WHERE o.id IS NULL OR n.id IS NULL
                 OR to_jsonb(n) - '{heartbeat_at,lease_expires_at}'::text[]
                    IS DISTINCT FROM to_jsonb(o) - '{heartbeat_at,lease_expires_at}'::text[]) THEN
    PERFORM pg_notify('kiln_changes', TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS kiln_notify_update ON builds;
CREATE TRIGGER kiln_notify_update AFTER UPDATE ON builds
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION kiln_notify_build_update();
