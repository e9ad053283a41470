-- The artifact's format (its compression): `tar.zst` (the default from now on)
-- or `tar.gz`. Names the file ending and the media type whatever serves or
-- reads artifacts uses. Every artifact written before this was a .tar.gz.
ALTER TABLE packages
  ADD COLUMN artifact_format text CHECK (artifact_format IN ('tar.zst', 'tar.gz'));
UPDATE packages SET artifact_format = 'tar.gz' WHERE artifact IS NOT NULL;
