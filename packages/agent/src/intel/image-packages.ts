import type { ImagePackage, Queryable } from '@kiln/shared';

/** Reads the packages installed in a build image (`dpkg-query`). */
export interface ImagePackageReader {
  /** The image's digest (its ID) and packages; null when the image is gone or has no dpkg. */
  readPackages(image: string): Promise<{ digest: string; packages: ImagePackage[] } | null>;
  digest(image: string): Promise<string | null>;
}

/** What `dpkg-query` prints per package: its state, name, version, section, a tab between. */
export const DPKG_QUERY_FORMAT = '${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Section}\\n';

/**
 * An image's library packages (what a static executable compiled in it may
 * embed), read through `reader` only the first time its digest is met.
 */
export async function imagePackages(
  db: Queryable,
  reader: ImagePackageReader,
  image: string,
): Promise<ImagePackage[] | null> {
  const digest = await reader.digest(image);
  if (!digest) return null;
  const known = await db.query<{ packages: ImagePackage[] }>(
    'SELECT packages FROM image_packages WHERE image_digest = $1',
    [digest],
  );
  if (known.rows[0]) return known.rows[0].packages;
  const read = await reader.readPackages(image);
  if (!read) return null;
  await db.query(
    'INSERT INTO image_packages (image_digest, packages) VALUES ($1, $2::jsonb) ON CONFLICT (image_digest) DO NOTHING',
    [read.digest, JSON.stringify(read.packages)],
  );
  return read.packages;
}

/**
 * The installed library packages in `dpkg-query` output (DPKG_QUERY_FORMAT): those in a
 * `libs` or `libdevel` section (any archive area: `contrib/libs`), or named
 * `lib*`, sorted by name.
 */
export function parseDpkgQuery(output: string): ImagePackage[] {
  const packages = new Map<string, string>();
  for (const line of output.split(/\r?\n/)) {
    const [state, name, version, section = ''] = line.split('\t');
    if (state?.trim() !== 'ii' || !name || !version || !/^[a-z0-9][a-z0-9+.-]*$/.test(name)) continue;
    const area = section.split('/').pop();
    if (area === 'libs' || area === 'libdevel' || name.startsWith('lib')) packages.set(name, version);
  }
  return [...packages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, version]) => ({ name, version }));
}
