import type { Queryable } from '@kiln/shared';
import type { SearchHitOut } from '../schemas/packages.js';
import { FILE_JSON } from './file-rows.js';

export type SearchBy = 'path' | 'soname' | 'needs' | 'sha256';

// One fixed condition per kind of search, each served by its own index (see migration 005).
const CONDITIONS: Record<SearchBy, string> = {
  path: 'f.path = $1',
  soname: 'f.soname = $1',
  needs: 'f.needed @> ARRAY[$1::text]',
  sha256: 'f.sha256 = $1',
};

/**
 * Files of current packages (the build each `packages` row points at) that
 * match, as one JSON array. The package of each file is looked up per file
 * (OFFSET 0 keeps the planner from turning that into a hash join over every
 * package, which it would pick for a library hundreds of files need).
 */
export function searchSql(by: SearchBy): string {
  return `SELECT COALESCE(json_agg(json_build_object('package', json_build_object('name', h.name, 'version', h.version),
                                                    'buildId', h.build_id, 'file', h.file)
                                   ORDER BY h.name, h.version, h.path), '[]') AS hits
            FROM (SELECT p.name, p.version, p.build_id, f.path, ${FILE_JSON} AS file
                    FROM package_files f
                    CROSS JOIN LATERAL (SELECT p.name, p.version, p.build_id FROM packages p
                                         WHERE p.build_id = f.build_id OFFSET 0) p
                   WHERE ${CONDITIONS[by]}
                   ORDER BY p.name, p.version, f.path
                   LIMIT $2) h`;
}

export async function searchFiles(
  db: Queryable,
  by: SearchBy,
  query: string,
  arch: string,
  limit = 200,
): Promise<SearchHitOut[]> {
  const { rows } = await db.query<{
    hits: Array<Omit<SearchHitOut, 'package'> & { package: { name: string; version: string } }>;
  }>({
    name: `kiln-search-${by}`,
    text: searchSql(by),
    values: [query, limit],
  });
  const hits = rows[0]?.hits ?? [];
  return hits.map((hit) => ({ ...hit, package: { ...hit.package, arch } }));
}
