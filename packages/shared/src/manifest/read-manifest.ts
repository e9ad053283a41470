import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ManifestError } from './manifest-error.js';
import { parseManifest } from './parse-manifest.js';
import { MANIFEST_FILES, MANIFEST_LIMITS, type Manifest } from './types.js';

/** Reads `.kiln.yml`, else `.buildr.yml`, from a checkout. */
export async function readManifest(dir: string): Promise<Manifest> {
  for (const file of MANIFEST_FILES) {
    let text: string;
    try {
      const handle = await readFile(path.join(dir, file));
      if (handle.byteLength > MANIFEST_LIMITS.bytes) {
        throw new ManifestError(file, [{ path: '', message: `is larger than ${MANIFEST_LIMITS.bytes / 1024} KiB` }]);
      }
      text = handle.toString('utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    return parseManifest(text, file);
  }
  throw new ManifestError(MANIFEST_FILES[0], [
    { path: '', message: `no manifest found: add ${MANIFEST_FILES.join(' or ')} to the repository root` },
  ]);
}
