import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gitEnvironment, loadConfig, parseBuildJob } from '@kiln/shared';
import { runGit, startCrawler, type RunningCrawler } from '@kiln/crawler';
import {
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  git,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { buildRows, captureLogs, QueueReader, waitFor } from './helpers/crawler-fixtures.js';

/**
 * The crawler in-process against real git repositories, PostgreSQL and
 * RabbitMQ. Poll cycles are run by hand (`pollOnce`) so each step is exact.
 */
jest.setTimeout(60_000);

const run = promisify(execFile);
const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

describe('crawler', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let root: string;
  let queue: QueueReader;
  const running: RunningCrawler[] = [];
  const repos: TestRepo[] = [];

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('kiln_crawler'), createTestVhost('kiln-crawler')]);
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-root-'));
    queue = await QueueReader.open(vhost.url);
  });

  afterEach(async () => {
    for (const c of running.splice(0)) await c.close();
    for (const r of repos.splice(0)) await r[Symbol.asyncDispose]();
    await db.pool.query('TRUNCATE builds, repo_refs, job_outbox CASCADE');
    await queue.drain();
  });

  afterAll(async () => {
    await queue.close();
    await rm(root, { recursive: true, force: true });
    await vhost[Symbol.asyncDispose]();
    await db[Symbol.asyncDispose]();
  });

  async function start(env: Record<string, string> = {}, logs = captureLogs()) {
    const config = loadConfig({
      KILN_DATABASE_URL: db.url,
      KILN_AMQP_URL: vhost.url,
      KILN_REPO_ROOT: root,
      KILN_POLL_INTERVAL: '3600',
      KILN_WEBHOOK_PORT: '0',
      ...env,
    });
    const crawler = await startCrawler(config, logs.logger, { poll: false, serve: false });
    running.push(crawler);
    return { ...crawler, logs };
  }

  async function repo(name: string): Promise<TestRepo> {
    const r = await createTestRepo({ root, name });
    repos.push(r);
    return r;
  }

  test('a pushed release branch becomes one queued build and one persistent message', async () => {
    const zlib = await repo('zlib');
    const commit = await zlib.pushBranch('zlib-1.3.1', { 'zlib.c': 'int main(){}\n' });
    const { crawler } = await start();

    const stats = await crawler.pollOnce();
    expect(stats).toMatchObject({ repos: 1, checked: 1, failed: 0, builds: 1 });
    const [message] = await queue.take(1);
    const builds = await buildRows(db.pool);
    expect(builds).toEqual([
      expect.objectContaining({
        repo: zlib.bare,
        branch: 'zlib-1.3.1',
        commit,
        package_name: 'zlib',
        package_version: '1.3.1',
        trigger: 'poll',
        status: 'queued',
      }),
    ]);
    const parsed = parseBuildJob(JSON.stringify(message?.body));
    expect(parsed).toEqual({
      ok: true,
      job: {
        id: builds[0]?.id,
        repo: zlib.bare,
        branch: 'zlib-1.3.1',
        commit,
        package: { name: 'zlib', version: '1.3.1' },
        trigger: 'poll',
        requestedAt: expect.any(String),
      },
    });
    expect(message).toMatchObject({ messageId: builds[0]?.id, deliveryMode: 2, contentType: 'application/json' });
    const outbox = await db.pool.query('SELECT published_at FROM job_outbox');
    expect(outbox.rows[0]?.published_at).toBeInstanceOf(Date);
  });

  test('a hotfix builds again; other branches never; a deletion is recorded; a restart adds nothing', async () => {
    const zlib = await repo('zlib');
    const first = await zlib.pushBranch('zlib-1.3.1', { 'zlib.c': 'v1\n' });
    await zlib.pushBranch('feature-x', { 'x.c': 'x\n' });
    const a = await start();
    await a.crawler.pollOnce();
    await queue.take(1);

    const hotfix = await zlib.pushBranch('zlib-1.3.1', { 'zlib.c': 'v1 fixed\n' }, 'hotfix');
    await zlib.pushBranch('main', { README: 'more\n' });
    await zlib.pushBranch('feature-x', { 'x.c': 'x2\n' });
    expect(await a.crawler.pollOnce()).toMatchObject({ builds: 1 });
    const [second] = await queue.take(1);
    expect(second?.body).toMatchObject({ branch: 'zlib-1.3.1', commit: hotfix });
    expect((await buildRows(db.pool)).map((b) => b.commit)).toEqual([first, hotfix]);

    // Nothing changed: nothing happens.
    expect(await a.crawler.pollOnce()).toMatchObject({ builds: 0 });

    await zlib.deleteBranch('zlib-1.3.1');
    expect(await a.crawler.pollOnce()).toMatchObject({ builds: 0 });
    const ref = await db.pool.query<{ deleted_at: Date | null; commit: string }>(
      'SELECT commit, deleted_at FROM repo_refs',
    );
    expect(ref.rows).toEqual([{ commit: hotfix, deleted_at: expect.any(Date) }]);
    expect(a.logs.lines.some((l) => l.msg.startsWith('release branch deleted'))).toBe(true);

    await zlib.pushBranch('zlib-1.3.2', { 'zlib.c': 'v2\n' });
    await a.crawler.pollOnce();
    await queue.take(1);
    await a.close();
    running.splice(running.indexOf(a), 1);

    // A new crawler process over the same database finds nothing new.
    const b = await start();
    expect(await b.crawler.pollOnce()).toMatchObject({ checked: 1, builds: 0 });
    await b.relay.drain();
    expect(await queue.drain()).toEqual([]);
    expect(await buildRows(db.pool)).toHaveLength(3);
  });

  test('repositories configured by location and created later under the root are watched', async () => {
    const elsewhere = await createTestRepo({ name: 'openssl' });
    repos.push(elsewhere);
    await elsewhere.pushBranch('openssl-3.0.13', { a: '1' });
    const { crawler } = await start({ KILN_REPOS: elsewhere.bare });
    expect(await crawler.pollOnce()).toMatchObject({ repos: 1, builds: 1 });

    const later = await repo('python-dateutil');
    await later.pushBranch('python-dateutil-2.9.0', { a: '1' });
    expect(await crawler.pollOnce()).toMatchObject({ repos: 2, builds: 1 });
    const messages = await queue.take(2);
    expect(messages.map((m) => m.body.package)).toEqual([
      { name: 'openssl', version: '3.0.13' },
      { name: 'python-dateutil', version: '2.9.0' },
    ]);
  });

  test('hostile repository locations and branch names queue nothing and are logged', async () => {
    // A payload git would run: an ext:: location naming a script that leaves a mark.
    const pwned = path.join(root, 'pwned');
    const evil = path.join(root, 'evil.sh');
    await writeFile(evil, `#!/bin/sh\ntouch '${pwned}'\n`, { mode: 0o755 });
    const hostile = `ext::${evil}`;
    // A host whose git config allows ext (as a careless one may): git itself no longer stands in the way.
    const home = await mkdtemp(path.join(os.tmpdir(), 'kiln-home-'));
    await writeFile(path.join(home, '.gitconfig'), '[protocol "ext"]\n\tallow = always\n');
    const permissive = { ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1' };
    const savedHome = process.env.HOME;
    try {
      // The payload is live: plain git on that host runs it ...
      await run('git', ['ls-remote', '--', hostile], { env: permissive }).catch(() => undefined);
      expect(await exists(pwned)).toBe(true);
      await rm(pwned);
      // ... and Kiln's git environment alone (the second wall) refuses the transport there.
      await expect(
        runGit(['ls-remote', '--', hostile], { timeoutMs: 10_000, env: gitEnvironment(permissive) }),
      ).rejects.toThrow(/transport 'ext' not allowed/);
      expect(await exists(pwned)).toBe(false);

      const zlib = await repo('zlib');
      // git refuses such names from `git branch`, but a server can hold them.
      const head = await git(zlib.bare, 'rev-parse', 'main');
      await git(zlib.bare, 'update-ref', `refs/heads/--upload-pack=${evil}-1.0`, head);
      await git(zlib.bare, 'update-ref', 'refs/heads/-rf-1.0', head);
      // The crawler runs on that host: what stops the payload here is Kiln's own check of the location.
      process.env.HOME = home;
      const { crawler, logs } = await start({
        KILN_REPOS: [
          hostile,
          `--upload-pack=${evil}`,
          'fd::3',
          `file:///tmp/a\u0007b`,
          'https://user:hunter2@-evil.example.org/x.git',
        ].join(','),
      });
      const stats = await crawler.pollOnce();
      expect(stats).toMatchObject({ repos: 1, builds: 0 });
      expect(await exists(pwned)).toBe(false);
      expect(await buildRows(db.pool)).toEqual([]);
      const refused = logs.lines.filter((l) => l.msg === 'refusing repository location');
      expect(Object.fromEntries(refused.map((l) => [JSON.parse(l.repo as string) as string, l.reason]))).toEqual({
        [hostile]: 'uses a git remote helper ("::"), which is not allowed',
        [`--upload-pack=${evil}`]: 'starts with "-" and would read as an option',
        'fd::3': 'uses a git remote helper ("::"), which is not allowed',
        'file:///tmp/a\u0007b': 'contains whitespace or control characters',
        'https://***@-evil.example.org/x.git': 'has a host starting with "-"',
      });
      const unsafe = logs.lines.filter((l) => l.msg === 'ignoring a branch whose name is not safe to use');
      expect(unsafe.map((l) => JSON.parse(l.branch as string) as string).sort()).toEqual([
        `--upload-pack=${evil}-1.0`,
        '-rf-1.0',
      ]);
      expect(logs.text()).not.toContain('hunter2');

      // Reported once, not every cycle.
      await crawler.pollOnce();
      expect(logs.lines.filter((l) => l.msg === 'ignoring a branch whose name is not safe to use')).toHaveLength(2);
      expect(logs.lines.filter((l) => l.msg === 'refusing repository location')).toHaveLength(5);
      expect(await exists(pwned)).toBe(false);
      await expect(queue.drain()).resolves.toEqual([]);
    } finally {
      process.env.HOME = savedHome;
      await rm(home, { recursive: true, force: true });
    }
  });

  test('a dead server stalls nothing: the others are polled, it backs off with one warning', async () => {
    // Accepts connections and never answers, like a hung git daemon.
    const sockets: net.Socket[] = [];
    const hung = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const port = (hung.address() as net.AddressInfo).port;
    try {
      const zlib = await repo('zlib');
      await zlib.pushBranch('zlib-1.3.1', { a: '1' });
      const { crawler, logs } = await start({
        KILN_REPOS: `git://127.0.0.1:${port}/dead.git,https://token:s3cret@127.0.0.1:1/private.git`,
        KILN_GIT_TIMEOUT: '1s',
        KILN_POLL_CONCURRENCY: '2',
      });
      expect(await crawler.pollOnce()).toMatchObject({ repos: 3, checked: 3, failed: 2, builds: 1 });
      const warnings = logs.lines.filter((l) => l.msg === 'cannot list branches; backing off');
      expect(warnings.map((w) => w.repo).sort()).toEqual([
        `git://127.0.0.1:${port}/dead.git`,
        'https://***@127.0.0.1:1/private.git',
      ]);
      expect(warnings.find((w) => String(w.repo).startsWith('git:'))?.err).toMatch(/timed out after 1000 ms/);
      expect(logs.text()).not.toContain('s3cret');
      // Next cycle: the failing ones wait out their backoff.
      expect(await crawler.pollOnce()).toMatchObject({ checked: 1, deferred: 2 });
      expect(logs.lines.filter((l) => l.msg === 'cannot list branches; backing off')).toHaveLength(2);
    } finally {
      for (const s of sockets) s.destroy();
      hung.close();
    }
  });

  test('polling on its own: a push is queued by the next cycle', async () => {
    const zlib = await repo('zlib');
    await start({ KILN_POLL_INTERVAL: '1' }).then(async (c) => {
      c.crawler.start();
      await waitFor(() => c.crawler.cycleCount >= 1, 'first cycle');
    });
    const commit = await zlib.pushBranch('zlib-1.3.1', { a: '1' });
    const [message] = await queue.take(1);
    expect(message?.body).toMatchObject({ commit, trigger: 'poll' });
  });
});
