import { repoIdentity } from './repo-identity.js';

describe('repoIdentity', () => {
  test.each([
    ['https://Git.Example.org/team/app.git', 'git.example.org/team/app'],
    ['https://token:x@git.example.org/team/app/', 'git.example.org/team/app'],
    ['ssh://git@git.example.org:2222/team/app.git', 'git.example.org/team/app'],
    ['git@git.example.org:team/app.git', 'git.example.org/team/app'],
    ['git://git.example.org/team/app', 'git.example.org/team/app'],
    ['/srv/git/app.git', '/srv/git/app'],
    ['/srv/git/app.git/', '/srv/git/app'],
    ['file:///srv/git/app.git', '/srv/git/app'],
  ])('%s → %s', (location, identity) => {
    expect(repoIdentity(location)).toBe(identity);
  });

  test('unreadable is null', () => {
    expect(repoIdentity('not a url')).toBeNull();
  });
});
