/**
 * Exponential backoff with jitter, for reconnecting and for retrying the
 * database: many agents that lost the same server must not all come back in
 * the same millisecond.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  /** 0..1: the delay is spread over ±jitter of its value. */
  jitter?: number;
}

export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  const base = Math.min(options.maxMs, options.initialMs * factor ** Math.max(0, attempt));
  const spread = base * jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(options.maxMs, Math.round(base + spread)));
}

/**
 * Resolves after `ms`, or at once when any of the signals aborts (never
 * rejects). Its listeners go when it resolves: long-lived signals (the
 * agent's shutdown) are waited on thousands of times.
 */
export function sleep(ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
  return new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    if (live.some((s) => s.aborted)) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    for (const s of live) s.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', done);
      resolve();
    }
  });
}
