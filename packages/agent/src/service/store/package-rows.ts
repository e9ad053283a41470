import { debianHostArch, type BuildReport, type Queryable } from '@kiln/shared';

/** The package's files and its row (name, version and the build's arch), for a build that succeeded. */
export async function writePackage(
  db: Queryable,
  buildId: string,
  pkg: { name: string; version: string },
  report: BuildReport,
): Promise<void> {
  const install = report.install;
  if (!install) return;
  const files = install.files;
  await db.query('DELETE FROM package_files WHERE build_id = $1', [buildId]);
  if (files.length > 0) {
    await db.query(
      `INSERT INTO package_files (build_id, path, size, mode, sha256, kind, linkage, needed, target, soname)
       SELECT $1, t.path, t.size, t.mode, t.sha256, t.kind, t.linkage,
              CASE WHEN t.needed IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(t.needed)) END,
              t.target, t.soname
         FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::text[])
              AS t(path, size, mode, sha256, kind, linkage, needed, target, soname)
       ON CONFLICT (build_id, path) DO NOTHING`,
      [
        buildId,
        files.map((f) => f.path),
        files.map((f) => f.size),
        files.map((f) => f.mode),
        files.map((f) => f.sha256 ?? null),
        files.map((f) => f.kind),
        files.map((f) => f.linkage ?? null),
        files.map((f) => (f.needed ? JSON.stringify(f.needed) : null)),
        files.map((f) => f.target ?? null),
        files.map((f) => f.soname ?? null),
      ],
    );
  }
  // One row per name, version and arch, pointing at the newest build: a hotfix
  // replaces it, but an older build that happens to finish later does not.
  // The arch is the build's (set when its job was routed; the host's for a build from before).
  await db.query(
    `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count, payload_sha256, artifact,
                           artifact_format, updated_at)
     VALUES ($1, $2, (SELECT COALESCE(arch, $9) FROM builds WHERE id = $3), $3, $4, $5, $6, $7, $8, now())
     ON CONFLICT (name, version, arch) DO UPDATE
        SET build_id = EXCLUDED.build_id, installed_size = EXCLUDED.installed_size, file_count = EXCLUDED.file_count,
            payload_sha256 = EXCLUDED.payload_sha256, artifact = EXCLUDED.artifact,
            artifact_format = EXCLUDED.artifact_format, updated_at = now()
      WHERE (SELECT queued_at FROM builds WHERE id = packages.build_id)
            <= (SELECT queued_at FROM builds WHERE id = EXCLUDED.build_id)`,
    [
      pkg.name,
      pkg.version,
      buildId,
      install.sizeBytes,
      files.length,
      install.artifact?.sha256 ?? null,
      install.artifact?.path ?? null,
      install.artifact?.format ?? null,
      debianHostArch(),
    ],
  );
}
