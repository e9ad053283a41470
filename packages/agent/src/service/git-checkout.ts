import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  checkRepoLocation,
  gitEnvironment,
  isSafeRefName,
  redactRepo,
  redactUrlsIn,
  runGit,
  runGitBuffer,
  type Logger,
} from '@kiln/shared';
import {
  CheckoutError,
  type CheckedOut,
  type Checkout,
  type CheckoutRequest,
  type ResolvedCommit,
} from './checkout.js';
import { withDirLock } from './dir-lock.js';
import { parseEpoch } from '../trust/source-date-epoch.js';

export interface GitCheckoutOptions {
  /** Mirrors live in `<cacheDir>/mirrors/<sha256(repo)>.git`. */
  cacheDir: string;
  /** A git command that takes longer than this is killed. */
  timeoutMs: number;
  logger: Logger;
  env?: Record<string, string | undefined>;
}

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

interface Found {
  commit: string;
  branch: string | null;
  author: { name: string; email: string };
  committedAt?: number;
}

/**
 * Checkouts through a local mirror cache: the first build of a repository
 * makes a `--mirror` clone, later ones fetch into it (or nothing at all when
 * the mirror already has the commit), and each build's workspace is a
 * shallow fetch of one commit from the mirror. One lock per mirror keeps two
 * workers (or two agents sharing the cache) from changing it at once; a job
 * whose commit the mirror already has only reads it and takes no lock, so
 * builds of one repository do not wait for each other.
 */
export function createGitCheckout(options: GitCheckoutOptions): Checkout {
  // In-process queue per mirror, so local workers wait on a promise instead of polling the lock.
  const local = new Map<string, Promise<unknown>>();
  const env = gitEnvironment(options.env);

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

  async function resolve(request: CheckoutRequest): Promise<ResolvedCommit> {
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
    // The commit is there already: nothing to change in the mirror, so nothing to wait for.
    let found = request.commit && (await exists(mirror)) ? await commitInfo(mirror, request.commit) : null;
    if (found) log.debug('the mirror already has the commit');
    else {
      found = await serialised(mirror, () =>
        withDirLock(`${mirror}.lock`, () => updateMirror(mirror, request, log), { signal: request.signal }),
      );
    }
    const { commit, author, committedAt } = found;
    return {
      commit,
      ...(committedAt !== undefined ? { committedAt } : {}),
      branch: request.commit ? (request.branch ?? null) : found.branch,
      author,
      readFile: (name) => readBlob(mirror, commit, name),
      fill: (dir, signal) => fillWorkspace(mirror, commit, dir, signal),
    };
  }

  return {
    resolve,
    async checkout(request: CheckoutRequest, dir: string): Promise<CheckedOut> {
      const { readFile: _readFile, fill, ...found } = await resolve(request);
      await fill(dir, request.signal);
      return found;
    },
  };

  /** A file of the commit's root tree, or null when there is none (or it is not a plain file). */
  async function readBlob(mirror: string, commit: string, name: string): Promise<Buffer | null> {
    if (!/^[\w.-]+$/.test(name)) throw new CheckoutError(`${name} is not a file name of the repository root`);
    // `<mode> <type> <object>\t<name>`; a symlink (120000) is a blob too, but its text is where it points.
    const [mode, type, object] = (await git(['ls-tree', commit, '--', name], mirror)).split(/\s+/);
    if (type !== 'blob' || mode === '120000' || !object) return null;
    return runGitBuffer(['cat-file', 'blob', object], {
      timeoutMs: options.timeoutMs,
      env,
      cwd: mirror,
      maxOutputBytes: 1024 * 1024,
    });
  }

  function git(args: string[], cwd?: string, signal?: AbortSignal): Promise<string> {
    return runGit(args, { timeoutMs: options.timeoutMs, env, ...(cwd ? { cwd } : {}), ...(signal ? { signal } : {}) });
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

  async function updateMirror(mirror: string, request: CheckoutRequest, log: Logger): Promise<Found> {
    const { repo } = request;
    if (!(await exists(mirror))) {
      const partial = `${mirror}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      await mkdir(path.dirname(mirror), { recursive: true });
      log.info('cloning a mirror of the repository');
      await run('cloning', repo, () =>
        git(['clone', '--mirror', '--quiet', '--', repo, partial], undefined, request.signal),
      );
      await rename(partial, mirror);
    } else if (!(request.commit && (await commitInfo(mirror, request.commit)))) {
      log.debug('fetching into the mirror');
      // The URL may carry a token that changed since the mirror was made: fetch from the job's URL.
      await run('fetching', repo, () =>
        git(
          ['fetch', '--prune', '--quiet', '--', repo, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'],
          mirror,
          request.signal,
        ),
      );
    }

    if (request.commit) {
      const found = await commitInfo(mirror, request.commit);
      if (!found) throw new CheckoutError(`commit ${request.commit} is not in ${redactRepo(repo)}`);
      return { ...found, branch: request.branch ?? null };
    }
    const branch = request.branch ?? (await defaultBranch(mirror, repo, request.signal));
    const found = await commitInfo(mirror, `refs/heads/${branch}`);
    if (!found) throw new CheckoutError(`branch ${branch} does not exist in ${redactRepo(repo)}`);
    return { ...found, branch };
  }

  async function defaultBranch(mirror: string, repo: string, signal?: AbortSignal): Promise<string> {
    // The remote's HEAD now (it may have changed since the mirror was made).
    const remote = await run('reading the default branch of', repo, () =>
      git(['ls-remote', '--symref', '--', repo, 'HEAD'], mirror, signal),
    );
    const match = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(remote);
    const branch = match?.[1];
    if (!branch || !isSafeRefName(branch)) throw new CheckoutError(`${redactRepo(repo)} has no default branch`);
    return branch;
  }

  /** The commit a revision names in the mirror, with its author (one git call); null when it is not there. */
  async function commitInfo(mirror: string, revision: string): Promise<Found | null> {
    try {
      const out = await git(['log', '-1', '--format=%H%x00%an%x00%ae%x00%ct', `${revision}^{commit}`, '--'], mirror);
      const [commit = '', name = '', email = '', time] = out.trim().split('\u0000');
      const committedAt = parseEpoch(time);
      return COMMIT.test(commit)
        ? { commit, branch: null, author: { name, email }, ...(committedAt !== undefined ? { committedAt } : {}) }
        : null;
    } catch {
      return null;
    }
  }

  async function fillWorkspace(mirror: string, commit: string, dir: string, signal?: AbortSignal): Promise<void> {
    // Emptied, not replaced: the build's containers may already name this folder.
    await mkdir(dir, { recursive: true });
    for (const entry of await readdir(dir)) await rm(path.join(dir, entry), { recursive: true, force: true });
    await git(['init', '--quiet'], dir, signal);
    // file:// (not a bare path) so that --depth is honoured.
    await git(['fetch', '--quiet', '--depth', '1', '--no-tags', '--', `file://${mirror}`, commit], dir, signal);
    await git(['checkout', '--quiet', '--detach', 'FETCH_HEAD'], dir, signal);
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
