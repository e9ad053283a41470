import { jest } from '@jest/globals';
import { createHmac, randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@kiln/shared';
import { startCrawler, type RunningCrawler } from '@kiln/crawler';
import {
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  git,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { buildRows, captureLogs, QueueReader } from './helpers/crawler-fixtures.js';

jest.setTimeout(60_000);

const SECRET = 'correct horse battery staple';

/**
 * Instant triggers through the real HTTP server. The crawler never polls on
 * its own here (interval one hour, polling off), so any build proves the
 * trigger did it.
 */
describe('crawler webhooks and post-receive hook', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let root: string;
  let queue: QueueReader;
  let crawler: RunningCrawler & { logs: ReturnType<typeof captureLogs> };
  let base: string;
  const repos: TestRepo[] = [];

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('kiln_webhook'), createTestVhost('kiln-webhook')]);
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-root-'));
    queue = await QueueReader.open(vhost.url);
    const logs = captureLogs();
    const config = loadConfig({
      KILN_DATABASE_URL: db.url,
      KILN_AMQP_URL: vhost.url,
      KILN_REPO_ROOT: root,
      KILN_POLL_INTERVAL: '3600',
      KILN_WEBHOOK_PORT: '0',
      KILN_WEBHOOK_SECRET: SECRET,
    });
    crawler = { ...(await startCrawler(config, logs.logger, { poll: false })), logs };
    base = `http://127.0.0.1:${crawler.port}`;
  });

  afterEach(async () => {
    for (const r of repos.splice(0)) await r[Symbol.asyncDispose]();
    await db.pool.query('TRUNCATE builds, repo_refs, job_outbox CASCADE');
    await queue.drain();
  });

  afterAll(async () => {
    await crawler.close();
    await queue.close();
    await rm(root, { recursive: true, force: true });
    await vhost[Symbol.asyncDispose]();
    await db[Symbol.asyncDispose]();
  });

  async function repo(name: string): Promise<TestRepo> {
    const r = await createTestRepo({ root, name });
    repos.push(r);
    return r;
  }

  const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

  function post(route: string, body: string, headers: Record<string, string>) {
    return fetch(`${base}${route}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  }

  test('a signed GitHub push queues the build at once, from the repository, not the payload', async () => {
    const zlib = await repo('zlib');
    const commit = await zlib.pushBranch('zlib-1.3.1', { a: '1' });
    // The payload's sha is a lie: the crawler asks the repository itself.
    const body = JSON.stringify({
      ref: 'refs/heads/zlib-1.3.1',
      after: 'f'.repeat(40),
      repository: { clone_url: `file://${zlib.bare}` },
    });
    const res = await post('/webhooks', body, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${sign(body)}`,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', repo: zlib.bare });
    const [message] = await queue.take(1);
    expect(message?.body).toMatchObject({ branch: 'zlib-1.3.1', commit, trigger: 'webhook' });
    expect(await buildRows(db.pool)).toEqual([
      expect.objectContaining({ commit, trigger: 'webhook', status: 'queued' }),
    ]);
  });

  test('Gitea (signature) and GitLab (token) pushes are accepted; redeliveries are recognised', async () => {
    const a = await repo('libpng16');
    const b = await repo('x264');
    await a.pushBranch('libpng16-1.6.43', { a: '1' });
    await b.pushBranch('x264-0.164.3108', { b: '1' });
    const gitea = JSON.stringify({
      ref: 'refs/heads/libpng16-1.6.43',
      repository: { clone_url: `${a.bare}/`, ssh_url: 'git@gitea.example.org:x/libpng16.git' },
    });
    const delivery = randomUUID();
    const giteaHeaders = { 'x-gitea-event': 'push', 'x-gitea-delivery': delivery, 'x-gitea-signature': sign(gitea) };
    expect((await post('/webhooks/gitea', gitea, giteaHeaders)).status).toBe(202);
    const again = await post('/webhooks/gitea', gitea, giteaHeaders);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate', delivery });

    const gitlab = JSON.stringify({
      object_kind: 'push',
      project: { git_http_url: `file://${b.bare.replace(/\.git$/, '')}` },
    });
    const gitlabHeaders = {
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': SECRET,
      'x-gitlab-event-uuid': randomUUID(),
    };
    expect((await post('/webhooks', gitlab, gitlabHeaders)).status).toBe(202);

    const messages = await queue.take(2);
    expect(messages.map((m) => m.body.branch).sort()).toEqual(['libpng16-1.6.43', 'x264-0.164.3108']);
  });

  test('a wrong or missing signature gets 401 and queues nothing', async () => {
    const zlib = await repo('zlib');
    await zlib.pushBranch('zlib-1.3.1', { a: '1' });
    const body = JSON.stringify({ repository: { clone_url: zlib.bare } });
    const attempts: Array<Record<string, string>> = [
      { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(body, 'not the secret')}` },
      { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(`${body} `)}` },
      { 'x-github-event': 'push' },
      { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=zz' },
      { 'x-gitea-event': 'push', 'x-gitea-signature': sign(body, 'wrong') },
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': `${SECRET}x` },
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': '' },
    ];
    for (const headers of attempts) {
      const res = await post('/webhooks', body, headers);
      expect(res.status).toBe(401);
    }
    const hook = await fetch(`${base}/hooks/post-receive`, {
      method: 'POST',
      body: zlib.bare,
      headers: { authorization: 'Bearer guess' },
    });
    expect(hook.status).toBe(401);
    // A signed push right after, for another repository: once its job is out, anything the refused
    // requests had set off would be out too (one server, one relay, in order).
    const openssl = await repo('openssl');
    const marker = await openssl.pushBranch('openssl-3.0.13', { a: '1' });
    const signed = JSON.stringify({ repository: { clone_url: openssl.bare } });
    const accepted = await post('/webhooks', signed, {
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${sign(signed)}`,
    });
    expect(accepted.status).toBe(202);
    const [message] = await queue.take(1);
    expect(message?.body).toMatchObject({ branch: 'openssl-3.0.13', commit: marker });
    expect((await buildRows(db.pool)).map((b) => b.branch)).toEqual(['openssl-3.0.13']);
    expect(await queue.drain()).toEqual([]);
    expect(crawler.logs.lines.filter((l) => l.msg === 'refused webhook: bad or missing signature')).toHaveLength(
      attempts.length,
    );
  });

  test('the shipped post-receive hook makes a push build at once', async () => {
    const zlib = await repo('zlib');
    await copyFile(path.resolve('hooks/post-receive'), path.join(zlib.bare, 'hooks', 'post-receive'));
    await git(zlib.bare, 'config', 'kiln.crawlerUrl', base);
    await git(zlib.bare, 'config', 'kiln.webhookSecret', SECRET);
    const commit = await zlib.pushBranch('zlib-1.3.1', { a: '1' });
    const [message] = await queue.take(1);
    expect(message?.body).toMatchObject({ branch: 'zlib-1.3.1', commit, trigger: 'hook' });
  });

  test('the hook never fails a push when the crawler is down', async () => {
    const zlib = await repo('zlib');
    await copyFile(path.resolve('hooks/post-receive'), path.join(zlib.bare, 'hooks', 'post-receive'));
    await git(zlib.bare, 'config', 'kiln.crawlerUrl', 'http://127.0.0.1:1');
    await expect(zlib.pushBranch('zlib-1.3.1', { a: '1' })).resolves.toMatch(/^[0-9a-f]{40}$/);
  });

  test('unwatched repositories, other events, bad bodies and health', async () => {
    const body = JSON.stringify({ repository: { clone_url: 'https://example.org/elsewhere.git' } });
    const unwatched = await post('/webhooks/github', body, {
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${sign(body)}`,
    });
    expect(unwatched.status).toBe(404);
    const ping = await post('/webhooks/github', body, {
      'x-github-event': 'ping',
      'x-hub-signature-256': `sha256=${sign(body)}`,
    });
    expect(await ping.json()).toEqual({ status: 'pong' });
    const issue = await post('/webhooks/github', body, {
      'x-github-event': 'issues',
      'x-hub-signature-256': `sha256=${sign(body)}`,
    });
    expect(issue.status).toBe(200);
    const nobody = await post('/webhooks', body, {});
    expect(nobody.status).toBe(400);
    const huge = 'x'.repeat(2 * 1024 * 1024);
    expect((await post('/webhooks', huge, { 'x-github-event': 'push' })).status).toBe(413);
    const hookElsewhere = await fetch(`${base}/hooks/post-receive`, {
      method: 'POST',
      body: '/etc',
      headers: { authorization: `Bearer ${SECRET}` },
    });
    expect(hookElsewhere.status).toBe(404);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', unpublished: 0 });
  });
});

describe('without KILN_WEBHOOK_SECRET', () => {
  test('webhooks are refused; the post-receive endpoint answers this host', async () => {
    await using db = await createTestDatabase('kiln_webhook_nosecret');
    await using vhost = await createTestVhost('kiln-webhook-nosecret');
    await using zlib = await createTestRepo({ name: 'zlib' });
    const logs = captureLogs();
    const config = loadConfig({
      KILN_DATABASE_URL: db.url,
      KILN_AMQP_URL: vhost.url,
      KILN_REPOS: zlib.bare,
      KILN_POLL_INTERVAL: '3600',
      KILN_WEBHOOK_PORT: '0',
    });
    const crawler = await startCrawler(config, logs.logger, { poll: false });
    const queue = await QueueReader.open(vhost.url);
    try {
      const base = `http://127.0.0.1:${crawler.port}`;
      const body = JSON.stringify({ repository: { clone_url: zlib.bare } });
      const webhook = await fetch(`${base}/webhooks/github`, {
        method: 'POST',
        body,
        headers: { 'x-github-event': 'push' },
      });
      expect(webhook.status).toBe(403);
      expect(await webhook.json()).toEqual({ error: expect.stringContaining('set KILN_WEBHOOK_SECRET') });
      const commit = await zlib.pushBranch('zlib-1.3.1', { a: '1' });
      const hook = await fetch(`${base}/hooks/post-receive`, { method: 'POST', body: `${zlib.bare}\n` });
      expect(hook.status).toBe(202);
      const [message] = await queue.take(1);
      expect(message?.body).toMatchObject({ commit, trigger: 'hook' });
      expect(logs.lines.some((l) => String(l.msg).startsWith('KILN_WEBHOOK_SECRET is not set'))).toBe(true);
    } finally {
      await queue.close();
      await crawler.close();
    }
  });
});
