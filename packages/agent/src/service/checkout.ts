import { InvalidInputError } from '@kiln/shared';

/** What to check out: a job's repository, branch and (when the crawler saw one) exact commit. */
export interface CheckoutRequest {
  repo: string;
  branch?: string;
  commit?: string;
  signal?: AbortSignal;
}

export interface CheckedOut {
  commit: string;
  /** The branch built: the job's, or the default branch it resolved to. */
  branch: string | null;
  author: { name: string; email: string };
  /** The commit's time (committer date), seconds since 1970: the build's SOURCE_DATE_EPOCH. */
  committedAt?: number;
}

/** A commit found (fetched when need be), not yet written anywhere. */
export interface ResolvedCommit extends CheckedOut {
  /** A file of the commit's root (the manifest), read without a workspace; null when there is none. */
  readFile(name: string): Promise<Buffer | null>;
  /** Writes the commit into `dir` (made empty first). */
  fill(dir: string, signal?: AbortSignal): Promise<void>;
}

/**
 * Puts a repository's commit into a fresh folder: the seam between the
 * service and git. In two steps, so that the engine can make a build's
 * containers while its workspace is written.
 */
export interface Checkout {
  resolve(request: CheckoutRequest): Promise<ResolvedCommit>;
  /** Both steps at once. */
  checkout(request: CheckoutRequest, dir: string): Promise<CheckedOut>;
}

/** The repository, branch or commit cannot be had: retrying will not help, the build is `errored`. */
export class CheckoutError extends InvalidInputError {}
