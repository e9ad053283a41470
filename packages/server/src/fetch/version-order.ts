/**
 * Orders versions the way people read them: runs of digits compare as
 * numbers, other runs as text, and `~` sorts before anything (1.0~rc1 < 1.0),
 * as in Debian. Enough to pick the newest of a package's versions.
 */
export function compareVersions(a: string, b: string): number {
  const left = tokens(a);
  const right = tokens(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (x === y) continue;
    if (x === undefined) return y?.startsWith('~') ? 1 : -1;
    if (y === undefined) return x.startsWith('~') ? -1 : 1;
    if (x.startsWith('~') !== y.startsWith('~')) return x.startsWith('~') ? -1 : 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const diff = BigInt(x) - BigInt(y);
      if (diff !== 0n) return diff < 0n ? -1 : 1;
      continue;
    }
    if (nx !== ny) return nx ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function tokens(version: string): string[] {
  return version.match(/~|\d+|[^\d~]+/g) ?? [];
}
