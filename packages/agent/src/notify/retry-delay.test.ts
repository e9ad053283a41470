import { DEFAULT_RETRY, retryDelay } from './retry-delay.js';

test('doubles from 5s and stops at 5 minutes', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => retryDelay(n, DEFAULT_RETRY))).toEqual([
    5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000,
  ]);
  expect(retryDelay(3, { firstDelayMs: 100, maxDelayMs: 250, maxAttempts: 5 })).toBe(250);
});
