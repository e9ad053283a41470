import type { Queryable } from '@kiln/shared';
import type { SearchHitOut } from '../schemas/packages.js';
import { FILE_COLUMNS, toFile, type FileRow } from './file-rows.js';

export type SearchBy = 'path' | 'soname' | 'needs' | 'sha256';

// One fixed condition per kind of search, each served by its own index (see migration 005).
const CONDITIONS: Record<SearchBy, string> = {
  path: 'f.path = $1',
  soname: 'f.soname = $1',
  needs: 'f.needed @> ARRAY[$1::text]',
  sha256: 'f.sha256 = $1',
};

/** Files of current packages (the build each `packages` row points at) that match. */
export function searchSql(by: SearchBy): string {
  return `SELECT p.name, p.version, p.build_id::text AS build_id, ${FILE_COLUMNS}
            FROM package_files f JOIN packages p ON p.build_id = f.build_id
           WHERE ${CONDITIONS[by]}
           ORDER BY p.name, p.version, f.path
           LIMIT $2`;
}

export async function searchFiles(
  db: Queryable,
  by: SearchBy,
  query: string,
  arch: string,
  limit = 200,
): Promise<SearchHitOut[]> {
  const { rows } = await db.query<FileRow & { name: string; version: string; build_id: string }>(searchSql(by), [
    query,
    limit,
  ]);
  return rows.map((r) => ({
    package: { name: r.name, version: r.version, arch },
    buildId: r.build_id,
    file: toFile(r),
  }));
}
