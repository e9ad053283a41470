import { backoffDelay } from '@kiln/shared';

/**
 * Per-repository failure state. A failing server is retried after
 * base, 2×base, 4×base … up to `maxMs`, so a dead host costs one timeout per
 * backoff period instead of one per cycle; a webhook for it bypasses this.
 */
export class Backoff {
  failures = 0;
  nextAttemptAt = 0;
  lastError: string | null = null;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  isDue(now: number): boolean {
    return now >= this.nextAttemptAt;
  }

  /** Records a failure; returns the delay before the next routine attempt. */
  fail(now: number, error: string): number {
    this.failures++;
    this.lastError = error;
    const delay = backoffDelay(this.failures - 1, { initialMs: this.baseMs, maxMs: this.maxMs, jitter: 0 });
    this.nextAttemptAt = now + delay;
    return delay;
  }

  /** Records a success; returns how many failures it ends (0 if it was healthy). */
  succeed(): number {
    const ended = this.failures;
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.lastError = null;
    return ended;
  }
}
