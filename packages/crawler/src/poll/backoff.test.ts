import { Backoff } from './backoff.js';

test('doubles up to the cap, and a success resets it', () => {
  const b = new Backoff(1000, 5000);
  expect([b.fail(0, 'x'), b.fail(0, 'x'), b.fail(0, 'x'), b.fail(0, 'x')]).toEqual([1000, 2000, 4000, 5000]);
  expect(b.isDue(4999)).toBe(false);
  expect(b.isDue(5000)).toBe(true);
  expect(b.succeed()).toBe(4);
  expect(b.isDue(0)).toBe(true);
  expect(b.succeed()).toBe(0);
});
