import path from 'node:path';

/**
 * `<name>-<version>-<arch>.tar.gz` into `<name>-<version>` and the arch; null
 * for anything else. Names and versions may both hold hyphens, so the stem is
 * matched against `name || '-' || version` in the database, not split here.
 */
export function parseArtifactName(file: string): { stem: string; arch: string } | null {
  const match = /^([A-Za-z0-9][A-Za-z0-9.+~_-]{0,255})-([a-z0-9]{2,16})\.tar\.gz$/.exec(file);
  if (!match?.[1] || !match[2]) return null;
  return { stem: match[1], arch: match[2] };
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
