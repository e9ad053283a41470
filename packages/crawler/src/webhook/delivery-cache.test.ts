import { DeliveryCache } from './delivery-cache.js';

test('recognises a redelivery and forgets the oldest past capacity', () => {
  const cache = new DeliveryCache(2);
  expect(cache.seenBefore('a')).toBe(false);
  expect(cache.seenBefore('a')).toBe(true);
  cache.seenBefore('b');
  cache.seenBefore('c');
  expect(cache.seenBefore('a')).toBe(false);
});
