import { createHash } from 'node:crypto';
import path from 'node:path';
import { extract } from 'tar-stream';
import type { StageContainer } from './container-runtime.js';
import { SENSITIVE_IMAGE_FILES, SENSITIVE_IMAGE_PATTERN } from './content-policy.js';

/** Only small files are secrets worth comparing; a larger one is skipped, not read. */
const MAX_BYTES = 1024 ** 2;

/**
 * sha256 → path of the build image's secret files (shadow, gshadow, sudoers,
 * SSH host keys), read from the install's container: a payload file with the
 * same content is a copy of one, whatever it is called.
 */
export async function sensitiveDigests(container: StageContainer): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const root of [...SENSITIVE_IMAGE_FILES, '/etc/ssh']) {
    const info = await container.stat(root);
    if (!info) continue;
    const reader = extract();
    const tar = await container.readTar(root);
    tar.on('error', (err: Error) => reader.destroy(err));
    tar.pipe(reader);
    for await (const entry of reader) {
      const full = path.posix.join(path.posix.dirname(root), entry.header.name).replace(/\/+$/, '');
      const wanted = SENSITIVE_IMAGE_FILES.includes(full) || SENSITIVE_IMAGE_PATTERN.test(full);
      if (entry.header.type !== 'file' || !wanted || (entry.header.size ?? 0) > MAX_BYTES) {
        entry.resume();
        continue;
      }
      const hash = createHash('sha256');
      for await (const chunk of entry) hash.update(chunk as Buffer);
      digests.set(hash.digest('hex'), full);
    }
  }
  return digests;
}
