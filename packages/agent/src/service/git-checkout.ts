import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { checkRepoLocation, isSafeRefName, redactRepo, redactUrlsIn, type Logger } from '@kiln/shared';
import type { SimpleGit } from 'simple-git';
import { CheckoutError, type CheckedOut, type Checkout, type CheckoutRequest } from './checkout.js';
import { withDirLock } from './dir-lock.js';
import { createGitClient } from './git-client.js';

export interface GitCheckoutOptions {
  /** Mirrors live in `<cacheDir>/mirrors/<sha256(repo)>.git`. */
  cacheDir: string;
  /** A git command that prints nothing for this long is killed. */
  timeoutMs: number;
  logger: Logger;
  env?: Record<string, string | undefined>;
}

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Checkouts through a local mirror cache: the first build of a repository
 * makes a `--mirror` clone, later ones fetch into it (or nothing at all when
 * the mirror already has the commit), and each build's workspace is a
 * shallow fetch of one commit from the mirror. One lock per mirror keeps two
 * workers (or two agents sharing the cache) from fetching it at once.
 */
export function createGitCheckout(options: GitCheckoutOptions): Checkout {
  // In-process queue per mirror, so local workers wait on a promise instead of polling the lock.
  const local = new Map<string, Promise<unknown>>();

  function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = local.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    local.set(key, tail);
    void tail.then(() => {
      if (local.get(key) === tail) local.delete(key);
    });
    return run;
  }

  return {
    async checkout(request: CheckoutRequest, dir: string): Promise<CheckedOut> {
      const { repo } = request;
      const check = checkRepoLocation(repo);
      if (!check.ok) throw new CheckoutError(`repository ${check.reason}`);
      if (request.branch !== undefined && !isSafeRefName(request.branch))
        throw new CheckoutError('branch is not a safe git branch name');
      if (request.commit !== undefined && !COMMIT.test(request.commit))
        throw new CheckoutError('commit is not a full lowercase hex commit id');

      const mirror = path.join(
        options.cacheDir,
        'mirrors',
        `${createHash('sha256').update(repo).digest('hex').slice(0, 40)}.git`,
      );
      const log = options.logger.child({ repo: redactRepo(repo) });
      return serialised(mirror, () =>
        withDirLock(
          `${mirror}.lock`,
          async () => {
            const commit = await updateMirror(mirror, request, log);
            await fillWorkspace(mirror, commit.commit, dir);
            const author = await commitAuthor(dir);
            return { commit: commit.commit, branch: commit.branch, author };
          },
          { signal: request.signal },
        ),
      );
    },
  };

  function git(baseDir?: string, signal?: AbortSignal): SimpleGit {
    return createGitClient({ baseDir, timeoutMs: options.timeoutMs, env: options.env, signal });
  }

  async function run<T>(what: string, repo: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof CheckoutError) throw err;
      const message = redactUrlsIn(err instanceof Error ? err.message : String(err))
        .trim()
        .split('\n')
        .filter(Boolean)
        .slice(-3)
        .join(' / ');
      throw new CheckoutError(`${what} ${redactRepo(repo)} failed: ${message}`, { cause: err });
    }
  }

  async function updateMirror(
    mirror: string,
    request: CheckoutRequest,
    log: Logger,
  ): Promise<{ commit: string; branch: string | null }> {
    const { repo } = request;
    if (!(await exists(mirror))) {
      const partial = `${mirror}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      await mkdir(path.dirname(mirror), { recursive: true });
      log.info('cloning a mirror of the repository');
      await run('cloning', repo, () =>
        git(undefined, request.signal).raw(['clone', '--mirror', '--quiet', '--', repo, partial]),
      );
      await rename(partial, mirror);
    } else if (!(request.commit && (await hasCommit(mirror, request.commit)))) {
      log.debug('fetching into the mirror');
      // The URL may carry a token that changed since the mirror was made: fetch from the job's URL.
      await run('fetching', repo, () =>
        git(mirror, request.signal).raw([
          'fetch',
          '--prune',
          '--quiet',
          '--',
          repo,
          '+refs/heads/*:refs/heads/*',
          '+refs/tags/*:refs/tags/*',
        ]),
      );
    } else {
      log.debug('the mirror already has the commit');
    }

    if (request.commit) {
      if (!(await hasCommit(mirror, request.commit))) {
        throw new CheckoutError(`commit ${request.commit} is not in ${redactRepo(repo)}`);
      }
      return { commit: request.commit, branch: request.branch ?? null };
    }
    const branch = request.branch ?? (await defaultBranch(mirror, repo, request.signal));
    const sha = (
      await git(mirror)
        .raw(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])
        .catch(() => '')
    ).trim();
    if (!COMMIT.test(sha)) throw new CheckoutError(`branch ${branch} does not exist in ${redactRepo(repo)}`);
    return { commit: sha, branch };
  }

  async function defaultBranch(mirror: string, repo: string, signal?: AbortSignal): Promise<string> {
    // The remote's HEAD now (it may have changed since the mirror was made).
    const remote = await run('reading the default branch of', repo, () =>
      git(mirror, signal).raw(['ls-remote', '--symref', '--', repo, 'HEAD']),
    );
    const match = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(remote);
    const branch = match?.[1];
    if (!branch || !isSafeRefName(branch)) throw new CheckoutError(`${redactRepo(repo)} has no default branch`);
    return branch;
  }

  async function hasCommit(mirror: string, commit: string): Promise<boolean> {
    try {
      await git(mirror).raw(['cat-file', '-e', `${commit}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  async function fillWorkspace(mirror: string, commit: string, dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const ws = git(dir);
    await ws.raw(['init', '--quiet']);
    // file:// (not a bare path) so that --depth is honoured.
    await ws.raw(['fetch', '--quiet', '--depth', '1', '--no-tags', '--', `file://${mirror}`, commit]);
    await ws.raw(['checkout', '--quiet', '--detach', 'FETCH_HEAD']);
  }

  async function commitAuthor(dir: string): Promise<{ name: string; email: string }> {
    const out = await git(dir).raw(['log', '-1', '--format=%an%x00%ae', 'HEAD']);
    const [name = '', email = ''] = out.trim().split('\u0000');
    return { name, email };
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
