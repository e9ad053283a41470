import { PayloadTooLargeError } from './payload-limit.js';

describe('PayloadTooLargeError', () => {
  test('names the size and the limit, and is told apart by name', () => {
    const err = new PayloadTooLargeError(3 * 1024 ** 3, 2 * 1024 ** 3, true);
    expect(err.message).toBe(
      "the install's payload is 3 GiB, over the payload limit of 2 GiB (KILN_PAYLOAD_LIMIT): it was not inspected or packed",
    );
    expect(err.name).toBe('PayloadTooLargeError');
    expect([err.sizeBytes, err.limitBytes]).toEqual([3 * 1024 ** 3, 2 * 1024 ** 3]);
  });

  test('a size known only as a lower bound says so; sizes that round alike show their bytes', () => {
    const err = new PayloadTooLargeError(2 * 1024 ** 3 + 4096, 2 * 1024 ** 3, false);
    expect(err.message).toBe(
      "the install's payload is more than 2.0 GiB, over the payload limit of 2 GiB (2147487744 bytes against 2147483648) (KILN_PAYLOAD_LIMIT): " +
        'it was not inspected or packed',
    );
  });
});
