import { createHmac } from 'node:crypto';
import { deliveryInfo, detectProvider, secretEquals, verifyWebhook } from './signature.js';

const SECRET = "It's a Secret to Everybody";
const body = Buffer.from('Hello, World!');
const hex = createHmac('sha256', SECRET).update(body).digest('hex');

describe('verifyWebhook', () => {
  test("GitHub's documented example signature verifies", () => {
    expect(hex).toBe('757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
    expect(verifyWebhook('github', { 'x-hub-signature-256': `sha256=${hex}` }, body, SECRET)).toBe(true);
  });

  test.each([
    [{}],
    [{ 'x-hub-signature-256': hex }],
    [{ 'x-hub-signature-256': `sha256=${hex.slice(1)}` }],
    [{ 'x-hub-signature-256': `sha256=${hex.replace(/^./, '0')}` }],
    [{ 'x-hub-signature-256': 'sha256=' }],
  ])('GitHub refuses %j', (headers) => {
    expect(verifyWebhook('github', headers, body, SECRET)).toBe(false);
  });

  test('Gitea: its own header, or GitHub-style', () => {
    expect(verifyWebhook('gitea', { 'x-gitea-signature': hex }, body, SECRET)).toBe(true);
    expect(verifyWebhook('gitea', { 'x-hub-signature-256': `sha256=${hex}` }, body, SECRET)).toBe(true);
    expect(verifyWebhook('gitea', { 'x-gitea-signature': hex }, Buffer.from('tampered'), SECRET)).toBe(false);
  });

  test('GitLab: the token itself', () => {
    expect(verifyWebhook('gitlab', { 'x-gitlab-token': SECRET }, body, SECRET)).toBe(true);
    expect(verifyWebhook('gitlab', { 'x-gitlab-token': `${SECRET} ` }, body, SECRET)).toBe(false);
    expect(verifyWebhook('gitlab', {}, body, SECRET)).toBe(false);
    expect(secretEquals('', SECRET)).toBe(false);
  });
});

test('providers and delivery ids come from their headers; Gitea wins over its GitHub-compatible headers', () => {
  expect(detectProvider({ 'x-gitea-event': 'push', 'x-github-event': 'push' })).toBe('gitea');
  expect(detectProvider({ 'x-gitlab-event': 'Push Hook' })).toBe('gitlab');
  expect(detectProvider({ 'x-github-event': 'push' })).toBe('github');
  expect(detectProvider({})).toBeNull();
  expect(deliveryInfo('gitlab', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'u1' })).toEqual({
    id: 'u1',
    event: 'Push Hook',
  });
});
