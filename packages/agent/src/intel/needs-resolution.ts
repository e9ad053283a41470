import type { InstalledFile, Queryable, UnresolvedNeed } from '@kiln/shared';

/**
 * The needed libraries of a build's files that nothing provides: not a file
 * of the build itself, not a current package in the database (packages carry
 * no arch yet: all are the host's), not the build image's own libraries.
 */
export async function unresolvedNeeds(
  db: Queryable,
  files: readonly InstalledFile[],
  imageSonames: readonly string[],
): Promise<UnresolvedNeed[]> {
  const needers = new Map<string, string[]>();
  for (const f of files)
    for (const soname of f.needed ?? []) needers.set(soname, [...(needers.get(soname) ?? []), f.path]);
  const own = new Set(files.flatMap((f) => (f.soname ? [f.soname] : [])));
  const image = new Set(imageSonames);
  const open = [...needers.keys()].filter((s) => !own.has(s) && !image.has(s));
  if (open.length === 0) return [];
  const { rows } = await db.query<{ soname: string }>(
    `SELECT DISTINCT f.soname FROM package_files f JOIN packages p ON p.build_id = f.build_id
      WHERE f.soname = ANY($1::text[])`,
    [open],
  );
  const packaged = new Set(rows.map((r) => r.soname));
  return open
    .filter((s) => !packaged.has(s))
    .sort()
    .map((soname) => ({ soname, files: needers.get(soname) ?? [] }));
}
