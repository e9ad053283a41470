import { backoffDelay } from '@kiln/shared';

/** How the sender spaces its attempts at one email while SMTP is down. */
export interface RetryPolicy {
  /** Wait after the first failed attempt; doubled after each further one (default 5s). */
  firstDelayMs: number;
  /** The longest wait between two attempts (default 5 min). */
  maxDelayMs: number;
  /** Attempts before the email is given up as `failed` (default 50: about four hours). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstDelayMs: 5_000, maxDelayMs: 300_000, maxAttempts: 50 };

/** The wait after `attempts` failed attempts: 5s, 10s, 20s, … capped. */
export function retryDelay(attempts: number, policy: RetryPolicy): number {
  return backoffDelay(attempts - 1, { initialMs: policy.firstDelayMs, maxMs: policy.maxDelayMs, jitter: 0 });
}
