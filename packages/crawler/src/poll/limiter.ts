/** A place in the Limiter: wait for `ready`, then `release` exactly once. */
export interface Slot {
  ready: Promise<void>;
  /** Moves a waiting slot ahead of the routine ones (someone just pushed). */
  promote(): void;
  release(): void;
}

/**
 * At most `limit` tasks at once. Urgent slots (a webhook just said someone
 * pushed) go before queued routine ones, so a push is seen at once even in
 * the middle of a long poll cycle.
 */
export class Limiter {
  private active = 0;
  private readonly urgent: Array<() => void> = [];
  private readonly routine: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  acquire(urgent = false): Slot {
    let grant: () => void = () => {};
    let granted = false;
    let released = false;
    const ready = new Promise<void>((resolve) => {
      grant = () => {
        granted = true;
        resolve();
      };
    });
    if (this.active < this.limit) {
      this.active++;
      grant();
    } else {
      (urgent ? this.urgent : this.routine).push(grant);
    }
    return {
      ready,
      promote: () => {
        const at = this.routine.indexOf(grant);
        if (at >= 0) {
          this.routine.splice(at, 1);
          this.urgent.push(grant);
        }
      },
      release: () => {
        if (released || !granted) return;
        released = true;
        // The slot passes straight to the next waiter, if any.
        const next = this.urgent.shift() ?? this.routine.shift();
        if (next) next();
        else this.active--;
      },
    };
  }

  async run<T>(task: () => Promise<T>, urgent = false): Promise<T> {
    const slot = this.acquire(urgent);
    await slot.ready;
    try {
      return await task();
    } finally {
      slot.release();
    }
  }
}
