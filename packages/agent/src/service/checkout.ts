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
}

/** Puts a repository's commit into a fresh folder: the seam between the service and git. */
export interface Checkout {
  checkout(request: CheckoutRequest, dir: string): Promise<CheckedOut>;
}

/** The repository, branch or commit cannot be had: retrying will not help, the build is `errored`. */
export class CheckoutError extends InvalidInputError {}
