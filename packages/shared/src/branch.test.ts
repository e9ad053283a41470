import { isSafeRefName, parseReleaseBranch } from './branch.js';

describe('parseReleaseBranch', () => {
  test.each([
    ['zlib-1.3.1', 'zlib', '1.3.1'],
    ['python-dateutil-2.9.0', 'python-dateutil', '2.9.0'],
    ['openssl-3.0.13', 'openssl', '3.0.13'],
    ['libpng16-1.6.43', 'libpng16', '1.6.43'],
    ['gcc-14-14.2.0', 'gcc-14', '14.2.0'],
    ['foo-1.0-rc1', 'foo', '1.0-rc1'],
    ['foo-1.0-2', 'foo-1.0', '2'],
    ['PyYAML-6.0.1', 'PyYAML', '6.0.1'],
    ['g++-13.1', 'g++', '13.1'],
    ['node_modules-1', 'node_modules', '1'],
    ['a-0', 'a', '0'],
    ['x264-0.164.3108', 'x264', '0.164.3108'],
    ['linux-6.6.1+deb12', 'linux', '6.6.1+deb12'],
    ['epoch-1.2~beta3', 'epoch', '1.2~beta3'],
  ])('%s → %s / %s', (branch, name, version) => {
    expect(parseReleaseBranch(branch)).toEqual({ name, version });
  });

  test.each([
    'feature-x',
    'main',
    'master',
    'release',
    '-rf-1.0',
    '--upload-pack=touch-1.0',
    'foo..bar-1.0',
    'foo-1..0',
    'foo bar-1.0',
    'foo-1.0 ',
    "foo'-1.0",
    'foo"-1.0',
    'foo;rm-1.0',
    'foo$(id)-1.0',
    'foo`id`-1.0',
    'foo|x-1.0',
    'foo&-1.0',
    'foo/bar-1.0',
    'foo-1.0/x',
    'foo-1.0\n',
    'foo\u0000-1.0',
    'foo-',
    '-1.0',
    '1.0',
    'foo-1.0.',
    'foo.-1.0',
    'foo-1.0-',
    'zlib-v1.3',
    '',
    `${'a'.repeat(300)}-1.0`,
    'ext::sh-1.0',
    'foo*-1.0',
  ])('%j is not a release branch', (branch) => {
    expect(parseReleaseBranch(branch)).toBeNull();
  });
});

describe('isSafeRefName', () => {
  test.each(['main', 'zlib-1.3.1', 'feature/x', 'release/v1.0'])('%s is safe', (ref) => {
    expect(isSafeRefName(ref)).toBe(true);
  });
  test.each([
    '-x',
    '--upload-pack=evil',
    'a..b',
    'a b',
    'a~1',
    'a^',
    'a:b',
    'a\\b',
    '.hidden',
    'x/.y',
    'x.lock',
    'a@{1}',
    '',
  ])('%j is refused', (ref) => {
    expect(isSafeRefName(ref)).toBe(false);
  });
});
