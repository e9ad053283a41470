/**
 * Delivery ids seen recently, oldest forgotten first. Recognising a
 * redelivery saves a needless look at the server; it is not what prevents a
 * duplicate build (the recorded ref state does that).
 */
export class DeliveryCache {
  private readonly seen = new Map<string, true>();

  constructor(private readonly capacity = 10_000) {}

  /** True if the id was already seen; records it otherwise. */
  seenBefore(id: string): boolean {
    if (this.seen.has(id)) return true;
    this.seen.set(id, true);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return false;
  }
}
