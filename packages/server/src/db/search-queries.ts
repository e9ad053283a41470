import type { Queryable } from '@kiln/shared';
import type { SearchHitOut } from '../schemas/packages.js';
import { FILE_COLUMNS, toFile, type FileRow } from './file-rows.js';

export type SearchBy = 'path' | 'soname' | 'needs' | 'sha256' | 'embeds';

// One fixed condition per kind of search over package_files, each served by its own index (see migration 005).
const CONDITIONS: Record<Exclude<SearchBy, 'needs' | 'embeds'>, string> = {
  path: 'f.path = $1',
  soname: 'f.soname = $1',
  sha256: 'f.sha256 = $1',
};

/**
 * Files of current packages (the build each `packages` row points at) that
 * match, one row per file with its package, ordered by package name,
 * version, path and arch. Rows, not one JSON value built by PostgreSQL: for
 * a page of 200 files that costs PostgreSQL about 3 ms of JSON work (a type
 * lookup per value) and the server about as much to parse as to read rows.
 * The package of each file is looked up per file (OFFSET 0 keeps the planner
 * from turning that into a hash join over every package, which it would pick
 * for a library hundreds of files need).
 *
 * `needs` reads the rows of current builds in package_needs (migrations 012
 * and 018) in the order of their partial index (SONAME, package name,
 * version, path, arch) and stops at the limit: a library thousands of files
 * need costs one page of that index, not a sort of every match, and no
 * package lookups (each row carries its current package's arch). Only then
 * are the files' facts fetched, one primary-key lookup per answer row.
 * `embeds` finds the static executables of builds whose compiler image held
 * that package (`static_built_using`, GIN index of migration 009).
 */
export function searchSql(by: SearchBy): string {
  if (by === 'needs')
    return `SELECT n.name, n.version, n.arch, n.build_id, ${FILE_COLUMNS}
              FROM (SELECT n.package_name AS name, n.package_version AS version, n.current_arch AS arch,
                           n.build_id, n.path
                      FROM package_needs n
                     WHERE n.soname = $1 AND n.current_arch IS NOT NULL
                     ORDER BY n.package_name, n.package_version, n.path, n.current_arch
                     LIMIT $2) n
              JOIN package_files f ON f.build_id = n.build_id AND f.path = n.path
             ORDER BY n.name, n.version, n.path, n.arch`;
  if (by === 'embeds')
    return `SELECT p.name, p.version, p.arch, p.build_id, ${FILE_COLUMNS}
              FROM builds b
              JOIN packages p ON p.build_id = b.id
              JOIN package_files f ON f.build_id = b.id AND f.kind = 'executable' AND f.linkage = 'static'
             WHERE b.static_built_using @> jsonb_build_array(jsonb_build_object('name', $1::text))
             ORDER BY p.name, p.version, f.path, p.arch
             LIMIT $2`;
  return `SELECT p.name, p.version, p.arch, p.build_id, ${FILE_COLUMNS}
            FROM package_files f
            CROSS JOIN LATERAL (SELECT p.name, p.version, p.arch, p.build_id FROM packages p
                                 WHERE p.build_id = f.build_id OFFSET 0) p
           WHERE ${CONDITIONS[by]}
           ORDER BY p.name, p.version, f.path, p.arch
           LIMIT $2`;
}

type HitRow = FileRow & { name: string; version: string; arch: string; build_id: string };

export async function searchFiles(db: Queryable, by: SearchBy, query: string, limit = 200): Promise<SearchHitOut[]> {
  const { rows } = await db.query<HitRow>({
    name: `kiln-search-${by}`,
    text: searchSql(by),
    values: [query, limit],
  });
  return rows.map((r) => ({
    package: { name: r.name, version: r.version, arch: r.arch },
    buildId: r.build_id,
    file: toFile(r),
  }));
}
