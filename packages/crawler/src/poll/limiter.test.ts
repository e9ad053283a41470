import { Limiter } from './limiter.js';

test('one at a time with limit 1; urgent and promoted waiters go before routine ones', async () => {
  const limiter = new Limiter(1);
  const order: string[] = [];
  const first = limiter.acquire();
  await first.ready;
  order.push('first');
  const waiters = [
    ['r1', limiter.acquire()],
    ['r2', limiter.acquire()],
    ['promoted', limiter.acquire()],
    ['urgent', limiter.acquire(true)],
  ] as const;
  waiters[2][1].promote();
  const done = waiters.map(async ([name, slot]) => {
    await slot.ready;
    order.push(name);
    // Hold the slot a moment: nobody else may start meanwhile.
    await new Promise((r) => setImmediate(r));
    expect(order[order.length - 1]).toBe(name);
    slot.release();
  });
  first.release();
  await Promise.all(done);
  expect(order).toEqual(['first', 'urgent', 'promoted', 'r1', 'r2']);
});

test('run releases its slot even when the task throws', async () => {
  const limiter = new Limiter(1);
  await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  await expect(limiter.run(() => Promise.resolve(42))).resolves.toBe(42);
});
