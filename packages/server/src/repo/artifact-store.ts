import path from 'node:path';
import { artifactFormatOf, artifactSuffix, type ArtifactFormat } from '@kiln/shared';

/**
 * `<name>-<version>-<arch>.tar.zst` (or `.tar.gz`) into `<name>-<version>`,
 * the arch and the format; null for anything else. Names and versions may
 * both hold hyphens, so the stem is matched against `name || '-' || version`
 * in the database, not split here.
 */
export function parseArtifactName(file: string): { stem: string; arch: string; format: ArtifactFormat } | null {
  const format = artifactFormatOf(file);
  if (!format) return null;
  const match = /^([A-Za-z0-9][A-Za-z0-9.+~_-]{0,255})-([a-z0-9]{2,16})$/.exec(
    file.slice(0, -artifactSuffix(format).length),
  );
  if (!match?.[1] || !match[2]) return null;
  return { stem: match[1], arch: match[2], format };
}

/**
 * The artifact folder as the server sees it. A stored artifact path is used
 * only when it lies inside the folder: a row that points elsewhere (or a
 * name with `..`) serves nothing.
 */
export class ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The path relative to the folder, or null when `stored` is not inside it. */
  relative(stored: string): string | null {
    const absolute = path.resolve(this.root, stored);
    const relative = path.relative(this.root, absolute);
    if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return null;
    return relative;
  }

  local(stored: string): string | null {
    const relative = this.relative(stored);
    return relative === null ? null : path.join(this.root, relative);
  }
}
