/**
 * An agent's KILN_CONCURRENCY builds, shared by the workers of every arch it
 * serves: each arch's queue has that many workers (so any arch alone can use
 * them all), but no more builds run at once than there are slots. A worker
 * holding a message waits here for a slot; its message stays unacked, so the
 * broker gives it to no one else meanwhile, and nothing counts a delivery.
 */
export class BuildSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Resolves with `release` once a slot is free; null when `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<(() => void) | null> {
    if (signal?.aborted) return null;
    if (this.free > 0) {
      this.free--;
      return this.releaser();
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(null);
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.releaser());
      };
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
