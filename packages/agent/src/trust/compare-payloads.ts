import type { InstalledFile } from '@kiln/shared';

/**
 * The paths whose installed content differs between two builds: a different
 * sha256, mode, kind or link target, or a file only one of them installed.
 * Times are not compared (tools that honour SOURCE_DATE_EPOCH clamp them;
 * Kiln's artifact is the files, not their mtimes). Sorted.
 */
export function differingFiles(first: readonly InstalledFile[], second: readonly InstalledFile[]): string[] {
  const key = (f: InstalledFile) => JSON.stringify([f.sha256 ?? null, f.mode, f.kind, f.target ?? null, f.size]);
  const a = new Map(first.map((f) => [f.path, key(f)]));
  const b = new Map(second.map((f) => [f.path, key(f)]));
  const differing = new Set<string>();
  for (const [p, k] of a) if (b.get(p) !== k) differing.add(p);
  for (const p of b.keys()) if (!a.has(p)) differing.add(p);
  return [...differing].sort();
}
