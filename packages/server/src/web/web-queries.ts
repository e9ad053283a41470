import type { Queryable } from '@kiln/shared';
import { FILE_COLUMNS, toFile, type FileRow } from '../db/file-rows.js';
import type { ShownFile } from './views/files-table.js';

/** Reads only the pages need; the API's own queries serve the rest. Every value is a parameter. */

export interface VersionHistory {
  version: string;
  buildId: string;
  status: string;
  installedSize: number;
  fileCount: number;
  durationMs: number | null;
  updatedAt: string;
}

/** Every version of a package with its current build's status and time, oldest first (for the chart). */
export async function packageHistory(db: Queryable, name: string): Promise<VersionHistory[]> {
  const { rows } = await db.query<{
    version: string;
    build_id: string;
    status: string;
    installed_size: number;
    file_count: number;
    duration_ms: number | null;
    updated_at: Date;
  }>(
    `SELECT p.version, p.build_id::text AS build_id, b.status, p.installed_size::float8 AS installed_size,
            p.file_count, b.duration_ms::float8 AS duration_ms, p.updated_at
       FROM packages p JOIN builds b ON b.id = p.build_id
      WHERE p.name = $1 ORDER BY p.updated_at, p.version`,
    [name],
  );
  return rows.map((r) => ({
    version: r.version,
    buildId: r.build_id,
    status: r.status,
    installedSize: r.installed_size,
    fileCount: r.file_count,
    durationMs: r.duration_ms,
    updatedAt: r.updated_at.toISOString(),
  }));
}

/**
 * Current packages (other than `name`) with a file that needs one of `sonames`: from the current
 * builds' rows of package_needs (migrations 012 and 018, keyed by SONAME), not by scanning every
 * file's `needed` array.
 */
export async function neededBy(
  db: Queryable,
  sonames: readonly string[],
  name: string,
): Promise<Array<{ name: string; version: string; needs: string[] }>> {
  if (sonames.length === 0) return [];
  const { rows } = await db.query<{ name: string; version: string; needs: string[] }>(
    `SELECT n.package_name AS name, n.package_version AS version, array_agg(DISTINCT n.soname ORDER BY n.soname) AS needs
       FROM package_needs n
      WHERE n.soname = ANY($1::text[]) AND n.package_name <> $2 AND n.current_arch IS NOT NULL
      GROUP BY n.package_name, n.package_version ORDER BY n.package_name, n.package_version LIMIT 500`,
    [sonames, name],
  );
  return rows;
}

/** Which current package provides each of these SONAMEs. */
export async function providers(db: Queryable, sonames: readonly string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (sonames.length === 0) return found;
  const { rows } = await db.query<{ soname: string; name: string }>(
    `SELECT DISTINCT f.soname, p.name FROM package_files f JOIN packages p ON p.build_id = f.build_id
      WHERE f.soname = ANY($1::text[]) ORDER BY f.soname, p.name`,
    [sonames],
  );
  for (const row of rows) found.set(row.soname, [...(found.get(row.soname) ?? []), row.name]);
  return found;
}

/** Repositories that built something, for the builds filter (an index-only scan of builds_repo_branch_idx). */
export async function repositories(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ repo: string }>('SELECT DISTINCT repo FROM builds ORDER BY repo LIMIT 300');
  return rows.map((r) => r.repo);
}

export async function packageExists(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM packages WHERE name = $1 LIMIT 1', [name]);
  return rows.length > 0;
}

export interface PhaseRow {
  phase: string;
  stage: string | null;
  /** From the attempt's first phase (its queue wait, when known). */
  startMs: number;
  durationMs: number;
}

/** Where an attempt's time went (`build_phases`, written when the attempt ends), in order of start. */
export async function buildPhases(db: Queryable, buildId: string, attempt: number): Promise<PhaseRow[]> {
  const { rows } = await db.query<{ phase: string; stage: string | null; start_ms: number; duration_ms: number }>(
    `SELECT phase, stage, duration_ms::float8 AS duration_ms,
            (extract(epoch FROM started_at - min(started_at) OVER ()) * 1000)::float8 AS start_ms
       FROM build_phases WHERE build_id = $1 AND attempt = $2
      ORDER BY started_at, position`,
    [buildId, attempt],
  );
  return rows.map((r) => ({ phase: r.phase, stage: r.stage, startMs: r.start_ms, durationMs: r.duration_ms }));
}

/** A build's first files in path order, with their ELF facts (migration 009), for the build page's table. */
export async function filesWithFacts(db: Queryable, buildId: string, limit: number): Promise<ShownFile[]> {
  const { rows } = await db.query<FileRow>(
    `SELECT ${FILE_COLUMNS} FROM package_files f WHERE f.build_id = $1 ORDER BY f.path LIMIT $2`,
    [buildId, limit],
  );
  return rows.map(toFile);
}

/** The arches builds were made for (for the builds page's filter); the host's first when none yet. */
export async function builtArches(db: Queryable, hostArch: string): Promise<string[]> {
  const { rows } = await db.query<{ arch: string }>(
    // A loose index scan: one index probe per distinct arch instead of reading every build.
    `WITH RECURSIVE a AS (
       (SELECT arch FROM builds WHERE arch IS NOT NULL ORDER BY arch LIMIT 1)
       UNION ALL
       SELECT (SELECT arch FROM builds WHERE arch > a.arch ORDER BY arch LIMIT 1) FROM a WHERE a.arch IS NOT NULL
     ) SELECT arch FROM a WHERE arch IS NOT NULL`,
  );
  const arches = rows.map((r) => r.arch);
  return arches.includes(hostArch) ? arches : [hostArch, ...arches];
}
