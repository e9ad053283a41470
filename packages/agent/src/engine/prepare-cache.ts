import { createHash } from 'node:crypto';
import type { EnvVar, ManifestSection } from '@kiln/shared';

/** Bumped when the way prepare runs changes, so old cached images are not reused. */
const PREPARE_FORMAT = 2;
export const DEFAULT_CACHE_REPOSITORY = 'kiln-cache/prepare';

/**
 * The key of a compiler image: the repository and package it belongs to (a
 * compiler image is never shared across them, so nobody can poison another's),
 * the base image's id (not its name, which can move), the prepare section, and
 * the manifest's variables (a prepare line may use them). The workspace is not
 * part of it: prepare runs without it.
 */
export function prepareCacheKey(
  owner: { repo: string; package: string },
  baseImageId: string,
  prepare: ManifestSection,
  vars: readonly EnvVar[],
): string {
  const material = JSON.stringify({
    format: PREPARE_FORMAT,
    repo: owner.repo,
    package: owner.package,
    base: baseImageId,
    script: prepare.script,
    network: prepare.network ?? true,
    vars,
  });
  return createHash('sha256').update(material).digest('hex');
}

export function prepareCacheTag(key: string): string {
  return key.slice(0, 32);
}
