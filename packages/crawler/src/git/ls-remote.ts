import { checkRepoLocation, InvalidInputError } from '@kiln/shared';
import { GitCommandError } from './git-error.js';
import { runGit, type RunGitOptions } from './run-git.js';

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const HEADS = 'refs/heads/';

/** Branch name → commit id, as the server advertises them. */
export type Heads = Map<string, string>;

/** What the crawler asks of a git server; a seam so the poll logic can be tested without git. */
export interface HeadLister {
  listHeads(location: string): Promise<Heads>;
}

function assertLocation(location: string): void {
  const check = checkRepoLocation(location);
  if (!check.ok) throw new InvalidInputError(`refusing repository location: it ${check.reason}`);
}

/**
 * `git ls-remote --heads -- <location>`. The location is checked before git
 * sees it, and comes after `--`, so it can never read as an option.
 */
export async function listHeads(location: string, options: RunGitOptions): Promise<Heads> {
  assertLocation(location);
  const stdout = await runGit(['ls-remote', '--heads', '--', location], options);
  return parseHeads(stdout);
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
  constructor(private readonly options: RunGitOptions) {}
  listHeads(location: string): Promise<Heads> {
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
export async function resolveHead(location: string, branch: string | undefined, options: RunGitOptions): Promise<ResolvedHead | null> {
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
