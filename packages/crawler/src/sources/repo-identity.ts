import path from 'node:path';

/**
 * A comparable identity for a repository location, so that a webhook naming
 * `https://git.example.org/team/app.git` finds the watched
 * `git@git.example.org:team/app`: host (lower case, no user or port) plus
 * path, without a trailing `.git` or `/`. Local paths and file URLs reduce
 * to the absolute path. Null for anything unreadable.
 */
export function repoIdentity(location: string): string | null {
  const trim = (p: string) =>
    p
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
      .replace(/\/+$/, '');
  if (path.isAbsolute(location)) return trim(path.resolve(location));
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location);
  if (scheme) {
    try {
      const url = new URL(location);
      if (url.protocol === 'file:') return trim(path.resolve(decodeURIComponent(url.pathname)));
      return `${url.hostname.toLowerCase()}${trim(decodeURIComponent(url.pathname))}`;
    } catch {
      return null;
    }
  }
  const scp = /^(?:[^@/:]+@)?([^/:]+):(.+)$/.exec(location);
  if (scp?.[1] && scp[2]) return `${scp[1].toLowerCase()}/${trim(scp[2].replace(/^\/+/, ''))}`;
  return null;
}
