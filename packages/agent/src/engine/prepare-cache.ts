import { createHash } from 'node:crypto';
import type { EnvVar, ManifestSection } from '@kiln/shared';

/** Bumped when the way prepare runs changes, so old cached images are not reused. */
const PREPARE_FORMAT = 1;
export const DEFAULT_CACHE_REPOSITORY = 'kiln-cache/prepare';

/**
 * The key of a compiler image: the base image's id (not its name, which can
 * move), the prepare section, and the manifest's variables (a prepare line
 * may use them). The workspace is not part of it: prepare runs without it.
 */
export function prepareCacheKey(baseImageId: string, prepare: ManifestSection, vars: readonly EnvVar[]): string {
  const material = JSON.stringify({ format: PREPARE_FORMAT, base: baseImageId, script: prepare.script, vars });
  return createHash('sha256').update(material).digest('hex');
}

export function prepareCacheTag(key: string): string {
  return key.slice(0, 32);
}
