-- Stage and command rows belong to an attempt: a retry (attempt 2 after its agent died) writes its own
-- rows beside the dead attempt's instead of deleting them at the claim, so every row is written once when
-- its stage or line starts and completed when it ends. Readers show the build's current attempt.
ALTER TABLE build_stages ADD COLUMN IF NOT EXISTS attempt integer NOT NULL DEFAULT 1;
ALTER TABLE build_commands ADD COLUMN IF NOT EXISTS attempt integer NOT NULL DEFAULT 1;

-- Until now only the latest attempt's rows were kept: they are that attempt's.
UPDATE build_stages s SET attempt = GREATEST(b.attempt, 1) FROM builds b WHERE b.id = s.build_id;
UPDATE build_commands c SET attempt = GREATEST(b.attempt, 1) FROM builds b WHERE b.id = c.build_id;

ALTER TABLE build_stages DROP CONSTRAINT build_stages_pkey;
ALTER TABLE build_stages ADD PRIMARY KEY (build_id, attempt, position);
ALTER TABLE build_commands DROP CONSTRAINT build_commands_pkey;
ALTER TABLE build_commands ADD PRIMARY KEY (build_id, attempt, stage_position, position);
