import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { checkRepoLocation, redactRepo, toError, type Logger } from '@kiln/shared';
import { findBareRepos } from './find-bare-repos.js';
import { repoIdentity } from './repo-identity.js';

export interface WatchedRepo {
  /** As configured (may hold credentials): what git is given, and what jobs carry. */
  location: string;
  /** Safe to log and to store. */
  label: string;
  /** Comparable form for matching webhooks (see repo-identity.ts). */
  identity: string | null;
  /** Absolute path when the repository is on this host. */
  localPath: string | null;
}

export interface WatchListOptions {
  repos: readonly string[];
  root?: string;
  logger: Logger;
}

/**
 * The repositories the crawler watches: those configured (KILN_REPOS) and
 * every bare repository under the root (KILN_REPO_ROOT), which is scanned
 * again on every refresh so a repository created later is picked up. A
 * location that fails validation is logged once and never reaches git.
 */
export class WatchList {
  private readonly configured: WatchedRepo[];
  private current: WatchedRepo[];
  private readonly refused = new Set<string>();
  private rootProblem: string | null = null;
  private realpaths: Map<string, WatchedRepo> | null = null;

  constructor(private readonly options: WatchListOptions) {
    this.configured = [];
    for (const location of options.repos) {
      const repo = this.accept(location, 'KILN_REPOS');
      if (repo && !this.configured.some((r) => r.location === repo.location)) this.configured.push(repo);
    }
    this.current = [...this.configured];
  }

  get repos(): readonly WatchedRepo[] {
    return this.current;
  }

  /** Rescans the root; returns every watched repository. */
  async refresh(): Promise<readonly WatchedRepo[]> {
    const { root, logger } = this.options;
    if (!root) return this.current;
    let found: string[];
    try {
      found = await findBareRepos(root, 3, new Set(this.current.map((r) => r.location)));
      if (this.rootProblem) logger.info({ root }, 'repository root readable again');
      this.rootProblem = null;
    } catch (err) {
      const message = toError(err).message;
      if (this.rootProblem !== message)
        logger.warn({ root, err: message }, 'cannot read the repository root (KILN_REPO_ROOT)');
      this.rootProblem = message;
      found = this.current.filter((r) => !this.configured.includes(r)).map((r) => r.location);
    }
    const next = [...this.configured];
    const seen = new Set(next.map((r) => r.location));
    const previous = new Map(this.current.map((r) => [r.location, r]));
    for (const location of found) {
      if (seen.has(location)) continue;
      const repo = previous.get(location) ?? this.accept(location, 'KILN_REPO_ROOT');
      if (repo) {
        next.push(repo);
        seen.add(location);
      }
    }
    if (next.length !== this.current.length || next.some((r, i) => r !== this.current[i])) {
      const added = next.filter((r) => !previous.has(r.location));
      for (const r of added.slice(0, 20))
        if (this.current.length > 0) logger.info({ repo: r.label }, 'watching new repository');
      this.current = next;
      this.realpaths = null;
    }
    return this.current;
  }

  /** The watched repository at a local path (as a post-receive hook reports it), rescanning the root once if needed. */
  async findByPath(dir: string): Promise<WatchedRepo | undefined> {
    if (!path.isAbsolute(dir)) return undefined;
    const real = await realpath(dir).catch(() => null);
    if (!real) return undefined;
    let match = (await this.realpathIndex()).get(real);
    if (!match && this.options.root) {
      await this.refresh();
      match = (await this.realpathIndex()).get(real);
    }
    return match;
  }

  /** The watched repository any of these URLs (from a webhook payload) names, rescanning the root once if needed. */
  async findByUrls(urls: readonly string[]): Promise<WatchedRepo | undefined> {
    const wanted = new Set(urls.map(repoIdentity).filter((id): id is string => id !== null));
    if (wanted.size === 0) return undefined;
    const find = () => this.current.find((r) => r.identity !== null && wanted.has(r.identity));
    let match = find();
    if (!match && this.options.root) {
      await this.refresh();
      match = find();
    }
    return match;
  }

  private async realpathIndex(): Promise<Map<string, WatchedRepo>> {
    if (this.realpaths) return this.realpaths;
    const index = new Map<string, WatchedRepo>();
    await Promise.all(
      this.current.map(async (r) => {
        if (!r.localPath) return;
        const real = await realpath(r.localPath).catch(() => null);
        if (real) index.set(real, r);
      }),
    );
    this.realpaths = index;
    return index;
  }

  private accept(location: string, source: string): WatchedRepo | null {
    const check = checkRepoLocation(location);
    if (!check.ok) {
      if (!this.refused.has(location)) {
        this.refused.add(location);
        // JSON.stringify shows control characters escaped instead of printing them.
        this.options.logger.error(
          { repo: JSON.stringify(redactRepo(location)), source, reason: check.reason },
          'refusing repository location',
        );
      }
      return null;
    }
    let localPath: string | null = null;
    if (check.kind === 'path') {
      // `/srv/git/a.git/` and `/srv/git/a.git` are one repository, with one set of refs.
      location = path.resolve(location);
      localPath = location;
    } else if (location.startsWith('file://')) {
      try {
        localPath = decodeURIComponent(new URL(location).pathname);
      } catch {
        localPath = null;
      }
    }
    return { location, label: redactRepo(location), identity: repoIdentity(location), localPath };
  }
}
