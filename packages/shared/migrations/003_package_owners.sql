-- A package name belongs to the repositories listed here: the first one to
-- build it, or what an operator granted (`kiln owner`). A build from any other
-- repository that claims the name is refused. `repo` is the repository's
-- identity: its clone URL or path without credentials, a trailing slash or `.git`.
CREATE TABLE package_owners (
  name       text NOT NULL,
  repo       text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  granted_by text NOT NULL CHECK (granted_by IN ('first-build', 'history', 'operator')),
  PRIMARY KEY (name, repo)
);

-- Existing databases: each package belongs to the repository of its earliest
-- successful build.
INSERT INTO package_owners (name, repo, granted_at, granted_by)
SELECT DISTINCT ON (package_name)
       package_name,
       regexp_replace(
         regexp_replace(regexp_replace(repo, '^([A-Za-z][A-Za-z0-9+.-]*://)[^/@[:space:]]*@', '\1'), '/+$', ''),
         '\.git$', ''),
       COALESCE(finished_at, queued_at),
       'history'
  FROM builds
 WHERE status = 'succeeded' AND package_name IS NOT NULL
 ORDER BY package_name, queued_at, id;

-- What the content policy found in a build's payload (setuid files, files
-- replacing /etc/passwd, devices, ...): [{path, rule, message}].
ALTER TABLE builds ADD COLUMN policy_flags jsonb;
