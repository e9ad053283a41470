import type { Queryable } from '@kiln/shared';
import type { InstalledFileOut } from '../schemas/common.js';
import { FILE_COLUMNS, toFile, type FileRow } from './file-rows.js';

/** A build's installed files in path order, a page at a time (keyset: the last path of the previous page). */
export async function buildFiles(
  db: Queryable,
  id: string,
  options: { after?: string; limit: number },
): Promise<{ files: InstalledFileOut[]; next: string | null }> {
  const { rows } = await db.query<FileRow>(
    `SELECT ${FILE_COLUMNS} FROM package_files f
      WHERE f.build_id = $1 AND ($2::text IS NULL OR f.path > $2)
      ORDER BY f.path LIMIT $3`,
    [id, options.after ?? null, options.limit + 1],
  );
  const page = rows.slice(0, options.limit).map(toFile);
  return { files: page, next: rows.length > options.limit ? (page[page.length - 1]?.path ?? null) : null };
}
