import { isoTime, type ArtifactFormat, type Queryable } from '@kiln/shared';
import type { InstalledFileOut } from '../schemas/common.js';
import type { PackageDetailsOut, PackageVersionOut } from '../schemas/packages.js';
import { artifactUrl } from './build-queries.js';
import { FILE_JSON } from './file-rows.js';

interface PackageRow {
  name: string;
  version: string;
  arch: string;
  build_id: string;
  installed_size: number;
  file_count: number;
  payload_sha256: string | null;
  artifact: string | null;
  artifact_format: ArtifactFormat | null;
  updated_at: string;
}

const PACKAGE_COLUMNS = `p.name, p.version, p.arch, p.build_id::text AS build_id, p.installed_size::float8 AS installed_size,
  p.file_count, p.payload_sha256, p.artifact, p.artifact_format, ${isoTime('p.updated_at')} AS updated_at`;

function toVersion(row: PackageRow): PackageVersionOut {
  const { arch } = row;
  return {
    name: row.name,
    version: row.version,
    arch,
    buildId: row.build_id,
    installedSize: row.installed_size,
    fileCount: row.file_count,
    sha256: row.payload_sha256,
    artifactUrl: row.artifact ? artifactUrl(row.name, row.version, arch, row.artifact_format ?? 'tar.gz') : null,
    artifactFormat: row.artifact ? (row.artifact_format ?? 'tar.gz') : null,
    updatedAt: row.updated_at,
  };
}

/** Package names in order, each with its newest version (by when it was built); keyset by name. */
export async function listPackages(
  db: Queryable,
  options: { after?: string; limit: number },
): Promise<{
  packages: Array<{ name: string; latest: string; versions: number; updatedAt: string }>;
  next: string | null;
}> {
  const { rows } = await db.query<{ name: string; latest: string; versions: number; updated_at: Date }>(
    `SELECT name, (array_agg(version ORDER BY updated_at DESC))[1] AS latest, count(*)::int AS versions,
            max(updated_at) AS updated_at
       FROM packages WHERE ($1::text IS NULL OR name > $1)
      GROUP BY name ORDER BY name LIMIT $2`,
    [options.after ?? null, options.limit + 1],
  );
  const page = rows.slice(0, options.limit).map((r) => ({
    name: r.name,
    latest: r.latest,
    versions: r.versions,
    updatedAt: r.updated_at.toISOString(),
  }));
  return { packages: page, next: rows.length > options.limit ? (page[page.length - 1]?.name ?? null) : null };
}

/** Every version of a package for one arch, newest build first. */
export async function packageVersions(db: Queryable, name: string, arch: string): Promise<PackageVersionOut[]> {
  const { rows } = await db.query<PackageRow>(
    `SELECT ${PACKAGE_COLUMNS} FROM packages p WHERE p.name = $1 AND p.arch = $2
      ORDER BY p.updated_at DESC, p.version DESC`,
    [name, arch],
  );
  return rows.map((r) => toVersion(r));
}

const DETAILS_SQL = `SELECT ${PACKAGE_COLUMNS},
  (SELECT json_agg(${FILE_JSON} ORDER BY f.path) FROM package_files f WHERE f.build_id = p.build_id) AS files
  FROM packages p WHERE p.name = $1 AND p.version = $2 AND p.arch = $3`;

/** One version: its current build's files, what it provides (SONAMEs) and what it needs from elsewhere. */
export async function packageDetails(
  db: Queryable,
  name: string,
  version: string,
  arch: string,
): Promise<PackageDetailsOut | null> {
  const { rows } = await db.query<PackageRow & { files: InstalledFileOut[] | null }>({
    name: 'kiln-package-details',
    text: DETAILS_SQL,
    values: [name, version, arch],
  });
  const row = rows[0];
  if (!row) return null;
  const files = row.files ?? [];
  return { ...toVersion(row), ...linkage(files), files };
}

/** SONAMEs the files provide, and the libraries they need that the package does not provide itself. */
export function linkage(files: ReadonlyArray<{ soname: string | null; needed: string[] | null }>): {
  provides: string[];
  needs: string[];
} {
  const provides = new Set<string>();
  const needed = new Set<string>();
  for (const file of files) {
    if (file.soname) provides.add(file.soname);
    for (const lib of file.needed ?? []) needed.add(lib);
  }
  return { provides: [...provides].sort(), needs: [...needed].filter((lib) => !provides.has(lib)).sort() };
}
