import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ManifestError } from './manifest-error.js';
import { parseManifest } from './parse-manifest.js';
import { MANIFEST_FILES, MANIFEST_LIMITS, type Manifest, type ManifestFile } from './types.js';

/** A file of the checkout's root by name, or null when there is none. */
export type ManifestSource = (file: ManifestFile) => Promise<Buffer | null>;

/** Reads `.kiln.yml`, else `.buildr.yml`, from a checkout. */
export function readManifest(dir: string): Promise<Manifest> {
  return readManifestFrom(async (file) => {
    try {
      return await readFile(path.join(dir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  });
}

/** Reads `.kiln.yml`, else `.buildr.yml`, from wherever `source` finds them (a checkout, a commit in a mirror). */
export async function readManifestFrom(source: ManifestSource): Promise<Manifest> {
  for (const file of MANIFEST_FILES) {
    const bytes = await source(file);
    if (bytes === null) continue;
    if (bytes.byteLength > MANIFEST_LIMITS.bytes) {
      throw new ManifestError(file, [{ path: '', message: `is larger than ${MANIFEST_LIMITS.bytes / 1024} KiB` }]);
    }
    return parseManifest(bytes.toString('utf8'), file);
  }
  throw new ManifestError(MANIFEST_FILES[0], [
    { path: '', message: `no manifest found: add ${MANIFEST_FILES.join(' or ')} to the repository root` },
  ]);
}
