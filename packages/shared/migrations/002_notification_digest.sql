-- Repeated failures: when the same failure (same package, stage, command and
-- exit code) repeats build after build, the repeats are recorded as
-- `suppressed`, pointing at the notification that was emailed (`repeat_of`),
-- and later gathered into one `digest` email (`digest_id`).
ALTER TABLE notifications
  ADD COLUMN repeat_of bigint REFERENCES notifications (id) ON DELETE SET NULL,
  ADD COLUMN digest_id bigint REFERENCES notifications (id) ON DELETE SET NULL;
CREATE INDEX notifications_undigested_idx ON notifications (repeat_of, created_at)
  WHERE status = 'suppressed' AND digest_id IS NULL;
