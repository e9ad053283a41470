import type { Queryable } from '@kiln/shared';

/** The libraries a build image offers its programs: the SONAMEs in its dynamic linker's cache. */
export interface ImageLibraries {
  /** The image's digest (its ID) and SONAMEs; null when the image is gone or cannot be read. */
  read(image: string): Promise<{ digest: string; sonames: string[] } | null>;
  /** The image's digest only (cheap: no container). */
  digest(image: string): Promise<string | null>;
}

/** An image's SONAMEs, read through `libraries` only the first time its digest is met. */
export async function imageSonames(db: Queryable, libraries: ImageLibraries, image: string): Promise<string[] | null> {
  const digest = await libraries.digest(image);
  if (!digest) return null;
  const known = await db.query<{ sonames: string[] }>('SELECT sonames FROM image_libraries WHERE image_digest = $1', [
    digest,
  ]);
  if (known.rows[0]) return known.rows[0].sonames;
  const read = await libraries.read(image);
  if (!read) return null;
  await db.query(
    'INSERT INTO image_libraries (image_digest, sonames) VALUES ($1, $2) ON CONFLICT (image_digest) DO NOTHING',
    [read.digest, read.sonames],
  );
  return read.sonames;
}

/** SONAMEs from `ldconfig -p` output: `\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1`. */
export function parseLdconfig(output: string): string[] {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /^\s+(\S+)\s+\(/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names].sort();
}
