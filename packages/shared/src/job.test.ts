import { parseBuildJob } from './job.js';

describe('parseBuildJob', () => {
  test('accepts the minimal form', () => {
    expect(parseBuildJob('{"repo": "/srv/git/zlib.git", "branch": "zlib-1.3.1"}')).toEqual({
      ok: true,
      job: { repo: '/srv/git/zlib.git', branch: 'zlib-1.3.1' },
    });
    expect(parseBuildJob('{"repo": "https://example.org/zlib.git"}')).toMatchObject({ ok: true });
  });

  test("accepts the crawler's full form", () => {
    const job = {
      id: '7d444840-9dc0-41d8-8c5b-5a8f5e5f5e5f',
      repo: 'https://example.org/zlib.git',
      branch: 'zlib-1.3.1',
      commit: 'a'.repeat(40),
      package: { name: 'zlib', version: '1.3.1' },
      trigger: 'poll',
      arch: 'arm64',
      requestedAt: '2026-11-21T05:00:00.000Z',
    };
    expect(parseBuildJob(Buffer.from(JSON.stringify(job)))).toEqual({ ok: true, job });
  });

  test.each([
    ['not json', /^not valid JSON/],
    ['[]', /^not a BuildJob: \(message\): /],
    ['{}', /^not a BuildJob: repo: /],
    ['{"repo": 42}', /repo: /],
    ['{"repo": "ext::sh -c id"}', /repo: repository/],
    ['{"repo": "/x", "branch": "--upload-pack=id"}', /branch: is not a safe git branch name/],
    ['{"repo": "/x", "branch": "a b"}', /branch: is not a safe git branch name/],
    ['{"repo": "/x", "commit": "HEAD"}', /commit: must be a full lowercase hex commit id/],
    ['{"repo": "/x", "id": "1"}', /id: /],
    ['{"repo": "/x", "trigger": "cron"}', /trigger: /],
    ['{"repo": "/x", "arch": "aarch64"}', /arch: is not a Debian architecture name/],
    ['{"repo": "/x", "extra": true}', /extra/],
    ['{"repo": "/x", "package": {"name": "a;b", "version": "1"}}', /package.name: is not a valid package name/],
  ])('refuses %s with a reason', (body, reason) => {
    const result = parseBuildJob(body);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
