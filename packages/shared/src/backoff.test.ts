import { backoffDelay, sleep } from './backoff.js';

describe('backoffDelay', () => {
  const options = { initialMs: 100, maxMs: 5_000, jitter: 0 };

  it('doubles from the initial delay up to the cap', () => {
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, options))).toEqual([100, 200, 400, 800, 5_000]);
  });

  it('spreads by the jitter and never exceeds the cap', () => {
    const spread = { ...options, jitter: 0.5 };
    expect(backoffDelay(0, spread, () => 0)).toBe(50);
    expect(backoffDelay(0, spread, () => 1)).toBe(150);
    expect(backoffDelay(20, spread, () => 1)).toBe(5_000);
  });
});

describe('sleep', () => {
  it('ends at once when the signal aborts', async () => {
    const abort = new AbortController();
    const slept = sleep(60_000, abort.signal);
    abort.abort();
    await expect(slept).resolves.toBeUndefined();
  });
});
