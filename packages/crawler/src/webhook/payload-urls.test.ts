import { parsePayload, payloadRepoUrls } from './payload-urls.js';

test('collects the repository URLs of GitHub, Gitea and GitLab payloads, ignoring anything else', () => {
  expect(
    payloadRepoUrls({ repository: { clone_url: 'https://h/a.git', ssh_url: 'git@h:a.git', html_url: 42 } }),
  ).toEqual(['https://h/a.git', 'git@h:a.git']);
  expect(payloadRepoUrls({ project: { git_http_url: 'https://gl/a.git' } })).toEqual(['https://gl/a.git']);
  expect(payloadRepoUrls(null)).toEqual([]);
  expect(payloadRepoUrls('x')).toEqual([]);
});

test('reads JSON and GitHub form-encoded bodies', () => {
  const json = '{"repository":{"clone_url":"https://h/a.git"}}';
  expect(parsePayload(Buffer.from(json), 'application/json')).toEqual(JSON.parse(json));
  expect(parsePayload(Buffer.from(`payload=${encodeURIComponent(json)}`), 'application/x-www-form-urlencoded')).toEqual(
    JSON.parse(json),
  );
  expect(() => parsePayload(Buffer.from('{'), 'application/json')).toThrow();
});
