import { BuildSlots } from './build-slots.js';

describe('BuildSlots', () => {
  test('no more holders than slots; a release hands the slot to the next waiter, once', async () => {
    const slots = new BuildSlots(1);
    const first = await slots.acquire();
    let second: (() => void) | null = null;
    const waiting = slots.acquire().then((r) => (second = r));
    await new Promise((r) => setImmediate(r));
    expect(second).toBeNull();
    first?.();
    first?.();
    await waiting;
    expect(second).not.toBeNull();
    let third: (() => void) | null | undefined;
    void slots.acquire().then((r) => (third = r));
    await new Promise((r) => setImmediate(r));
    expect(third).toBeUndefined();
  });

  test('a waiter that gives up (shutdown) gets null and no slot', async () => {
    const slots = new BuildSlots(1);
    const held = await slots.acquire();
    const stop = new AbortController();
    const waiting = slots.acquire(stop.signal);
    stop.abort();
    expect(await waiting).toBeNull();
    held?.();
    expect(await slots.acquire()).not.toBeNull();
  });
});
