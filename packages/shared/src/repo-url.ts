import path from 'node:path';

/**
 * Where a repository may be cloned from: `https`, `ssh`, `git`, `file` URLs,
 * scp-like `user@host:path`, and absolute local paths. Everything else
 * (plain `http`, `ext::`, `fd::`, option-looking strings, control characters)
 * is refused before it reaches git.
 */
const ALLOWED_SCHEMES = new Set(['https:', 'ssh:', 'git:', 'file:']);
const SCP_LIKE = /^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!\/\/)[A-Za-z0-9._~/+-]+$/;
export const MAX_REPO_LENGTH = 2048;

export type RepoCheck = { ok: true; kind: 'url' | 'scp' | 'path' } | { ok: false; reason: string };

export function checkRepoLocation(repo: string): RepoCheck {
  if (repo.length === 0) return { ok: false, reason: 'is empty' };
  if (repo.length > MAX_REPO_LENGTH) return { ok: false, reason: `is longer than ${MAX_REPO_LENGTH} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(repo)) return { ok: false, reason: 'contains whitespace or control characters' };
  if (repo.startsWith('-')) return { ok: false, reason: 'starts with "-" and would read as an option' };
  if (repo.includes('::')) return { ok: false, reason: 'uses a git remote helper ("::"), which is not allowed' };
  if (path.isAbsolute(repo)) return { ok: true, kind: 'path' };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(repo);
  if (scheme) {
    let url: URL;
    try {
      url = new URL(repo);
    } catch {
      return { ok: false, reason: 'is not a valid URL' };
    }
    if (!ALLOWED_SCHEMES.has(url.protocol)) {
      return { ok: false, reason: `uses "${url.protocol.slice(0, -1)}", allowed are https, ssh, git, file` };
    }
    if (url.hostname.startsWith('-')) return { ok: false, reason: 'has a host starting with "-"' };
    return { ok: true, kind: 'url' };
  }
  if (SCP_LIKE.test(repo)) return { ok: true, kind: 'scp' };
  return { ok: false, reason: 'is neither an allowed URL nor an absolute path' };
}

/** The location with any password or token replaced, for logs and the database. */
export function redactRepo(repo: string): string {
  return repo.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]*@/, (_m, scheme: string) => `${scheme}***@`);
}

/**
 * Removes credentials from every URL quoted in a text (git's error messages
 * quote the remote): `https://user:token@host` becomes `https://***@host`.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s'"]+@/g, '$1***@');
}

/**
 * What makes two locations the same repository for ownership and caches: the
 * location without credentials, trailing slashes or `.git` (migration 003
 * computes the same in SQL for existing rows).
 */
export function repoIdentity(repo: string): string {
  return repo
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]*@/, '$1')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}
