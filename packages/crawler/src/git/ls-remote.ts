import { createHash } from 'node:crypto';
import {
  checkRepoLocation,
  gitEnvironment,
  GitCommandError,
  InvalidInputError,
  runGit,
  runGitBuffer,
  type RunGitOptions,
} from '@kiln/shared';

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const HEADS = 'refs/heads/';

/** Branch name → commit id, as the server advertises them. */
export type Heads = Map<string, string>;

/**
 * One answer of a server. The digest lets a poll that finds nothing new
 * stop there: no parsing, no strings, no database (the steady state of a
 * thousand repositories is almost all such polls).
 */
export interface HeadListing {
  digest: string;
  heads(): Heads;
}

/** What the crawler asks of a git server; a seam so the poll logic can be tested without git. */
export interface HeadLister {
  listHeads(location: string): Promise<HeadListing>;
}

export function headListing(stdout: Buffer): HeadListing {
  return {
    digest: createHash('sha1').update(stdout).digest('base64'),
    heads: () => parseHeads(stdout.toString('utf8')),
  };
}

function assertLocation(location: string): void {
  const check = checkRepoLocation(location);
  if (!check.ok) throw new InvalidInputError(`refusing repository location: it ${check.reason}`);
}

/**
 * `git ls-remote --heads -- <location>`. The location is checked before git
 * sees it, and comes after `--`, so it can never read as an option.
 */
export async function listHeads(location: string, options: RunGitOptions): Promise<HeadListing> {
  assertLocation(location);
  return headListing(await runGitBuffer(['ls-remote', '--heads', '--', location], options));
}

export function parseHeads(stdout: string): Heads {
  const heads: Heads = new Map();
  let start = 0;
  while (start < stdout.length) {
    let end = stdout.indexOf('\n', start);
    if (end === -1) end = stdout.length;
    const tab = stdout.indexOf('\t', start);
    if (tab > start && tab < end) {
      const sha = stdout.slice(start, tab);
      const ref = stdout.slice(tab + 1, end);
      if (ref.startsWith(HEADS) && SHA.test(sha)) heads.set(ref.slice(HEADS.length), sha);
    }
    start = end + 1;
  }
  return heads;
}

export class GitHeadLister implements HeadLister {
  private readonly options: RunGitOptions;
  constructor(options: RunGitOptions) {
    // One environment for every call, not a copy of process.env per spawn.
    this.options = { ...options, env: options.env ?? gitEnvironment() };
  }
  listHeads(location: string): Promise<HeadListing> {
    return listHeads(location, this.options);
  }
}

export interface ResolvedHead {
  branch: string;
  commit: string;
}

/**
 * The commit a branch points at, or (without a branch) the default branch and
 * its commit. Null when the server answered but has no such branch.
 */
export async function resolveHead(
  location: string,
  branch: string | undefined,
  options: RunGitOptions,
): Promise<ResolvedHead | null> {
  assertLocation(location);
  if (branch !== undefined) {
    const stdout = await runGit(['ls-remote', '--', location, `${HEADS}${branch}`], options);
    const commit = parseHeads(stdout).get(branch);
    return commit ? { branch, commit } : null;
  }
  const stdout = await runGit(['ls-remote', '--symref', '--', location, 'HEAD'], options);
  const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(stdout);
  const commit = /^([0-9a-f]{40}(?:[0-9a-f]{24})?)\tHEAD$/m.exec(stdout);
  if (!symref?.[1] || !commit?.[1]) return null;
  return { branch: symref[1], commit: commit[1] };
}

export { GitCommandError };
