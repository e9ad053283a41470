import { wantsSuccessEmail } from './queue-success-notification.js';

test('wantsSuccessEmail matches repositories however they are spelled', () => {
  const optIn = { repos: ['https://git.example.org/libs/zlib.git', '/srv/git/hello'] };
  expect(wantsSuccessEmail('https://***@git.example.org/libs/zlib.git', optIn)).toBe(true);
  expect(wantsSuccessEmail('https://git.example.org/libs/zlib/', optIn)).toBe(true);
  expect(wantsSuccessEmail('/srv/git/hello.git', optIn)).toBe(true);
  expect(wantsSuccessEmail('https://git.example.org/libs/zlib-ng.git', optIn)).toBe(false);
  expect(wantsSuccessEmail('https://other.example.org/libs/zlib.git', optIn)).toBe(false);
  expect(wantsSuccessEmail('anything', { repos: ['*'] })).toBe(true);
  expect(wantsSuccessEmail('anything', { repos: [] })).toBe(false);
});
