import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** A directory is a bare repository when it has HEAD, objects/ and refs/ (what git itself checks). */
export async function isBareRepo(dir: string): Promise<boolean> {
  const [head, objects, refs] = await Promise.all(
    ['HEAD', 'objects', 'refs'].map((name) => stat(path.join(dir, name)).catch(() => null)),
  );
  return Boolean(head?.isFile() && objects?.isDirectory() && refs?.isDirectory());
}

/**
 * Every bare repository under `root` (a plain git server's directory),
 * including namespaced ones (`root/team/app.git`) up to `maxDepth` levels.
 * It does not descend into repositories or hidden directories. Sorted, so
 * the order of polling is stable. Directories in `known` (the last scan's
 * answer) are taken as repositories without being examined again, which
 * makes a rescan of a thousand repositories one readdir.
 */
export async function findBareRepos(
  root: string,
  maxDepth = 3,
  known: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (depth === 0) throw err;
      return;
    }
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.name.startsWith('.')) return;
        const full = path.join(dir, entry.name);
        if (known.has(full)) {
          found.push(full);
          return;
        }
        const isDir =
          entry.isDirectory() || (entry.isSymbolicLink() && (await stat(full).catch(() => null))?.isDirectory());
        if (!isDir) return;
        if (await isBareRepo(full)) found.push(full);
        else if (depth + 1 < maxDepth) await walk(full, depth + 1);
      }),
    );
  }
  await walk(path.resolve(root), 0);
  return found.sort();
}
