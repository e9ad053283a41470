import { checkRepoLocation, redactRepo, redactUrlsIn } from './repo-url.js';

describe('checkRepoLocation', () => {
  test.each([
    'https://github.com/madler/zlib.git',
    'ssh://git@example.org/zlib.git',
    'git://example.org/zlib.git',
    'file:///srv/git/zlib.git',
    '/srv/git/zlib.git',
    'git@github.com:madler/zlib.git',
  ])('%s is allowed', (repo) => {
    expect(checkRepoLocation(repo).ok).toBe(true);
  });
  test.each([
    ['ext::sh -c touch% /tmp/pwned', /whitespace|helper/],
    ['ext::sh', /remote helper/],
    ['fd::17', /remote helper/],
    ['--upload-pack=touch /tmp/x', /whitespace|option/],
    ['-oProxyCommand=x', /option/],
    ['ftp://example.org/x.git', /allowed are/],
    ['http://git.local/zlib.git', /uses "http", allowed are https, ssh, git, file/],
    ['relative/path', /neither/],
    ['https://example.org/a\nb', /control/],
    ['', /empty/],
    ['ssh://-oProxyCommand=x/y', /host|valid/],
  ])('%j is refused', (repo, reason) => {
    const check = checkRepoLocation(repo);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });
});

test('redactRepo hides credentials', () => {
  expect(redactRepo('https://user:tok3n@example.org/x.git')).toBe('https://***@example.org/x.git');
  expect(redactRepo('/srv/git/x.git')).toBe('/srv/git/x.git');
});

test('redactUrlsIn removes user info from every URL in a message', () => {
  expect(
    redactUrlsIn("fatal: unable to access 'https://x-token:ghp_abc@github.com/a/b.git/': 403 and ssh://git:pw@h/x"),
  ).toBe("fatal: unable to access 'https://***@github.com/a/b.git/': 403 and ssh://***@h/x");
  expect(redactUrlsIn('https://git.example.org/x.git')).toBe('https://git.example.org/x.git');
});
