import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  git,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import {
  buildRows,
  QueueReader,
  sleep,
  spawnCli,
  startOwnRabbit,
  waitFor,
  type CliProcess,
} from './helpers/crawler-fixtures.js';
import { seededRandom } from './helpers/seeded-random.js';

// Five crawler starts and kills over eight repositories, then a full catch-up: slow on a busy machine.
jest.setTimeout(240_000);

/**
 * `kiln crawler` as a real process: killed with SIGKILL at arbitrary moments,
 * restarted, and run against a RabbitMQ node that is stopped under it.
 */
describe('kiln crawler process', () => {
  let db: TestDatabase;
  let root: string;
  const repos: TestRepo[] = [];
  const children: CliProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('kiln_crawler_proc');
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-root-'));
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null) c.child.kill('SIGKILL');
      await c.exited;
    }
    for (const r of repos.splice(0)) await r[Symbol.asyncDispose]();
    await db.pool.query('TRUNCATE builds, repo_refs, job_outbox CASCADE');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await db[Symbol.asyncDispose]();
  });

  function crawler(amqpUrl: string, env: Record<string, string> = {}): CliProcess {
    const c = spawnCli(['crawler'], {
      KILN_DATABASE_URL: db.url,
      KILN_AMQP_URL: amqpUrl,
      KILN_REPO_ROOT: root,
      KILN_POLL_INTERVAL: '1',
      KILN_WEBHOOK_PORT: '0',
      KILN_LOG_LEVEL: 'debug',
      ...env,
    });
    children.push(c);
    return c;
  }

  async function unpublished(): Promise<number> {
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM job_outbox WHERE published_at IS NULL',
    );
    return rows[0]?.n ?? -1;
  }

  /** Pushes straight into the bare repositories: new release branches and hotfixes on existing ones. */
  async function push(round: number, bare: string[]): Promise<void> {
    await Promise.all(
      bare.map(async (dir, r) => {
        const tree = await git(dir, 'rev-parse', 'main^{tree}');
        const parent = await git(dir, 'rev-parse', 'main');
        const lines: string[] = [];
        for (let i = 0; i < 12; i++) {
          const commit = await git(dir, 'commit-tree', tree, '-p', parent, '-m', `r${r} round ${round} #${i}`);
          // Branches 0-3 of every round move again (hotfixes); the rest are new.
          const branch = i < 4 && round > 0 ? `pkg${r}-${round - 1}.${i}` : `pkg${r}-${round}.${i}`;
          lines.push(`update refs/heads/${branch} ${commit}`);
        }
        lines.push(`update refs/heads/feature-x${round} ${parent}`);
        await gitStdin(dir, ['update-ref', '--stdin'], `${lines.join('\n')}\n`);
      }),
    );
  }

  async function heads(bare: string[]): Promise<Map<string, string>> {
    const all = new Map<string, string>();
    for (const dir of bare) {
      const out = await git(dir, 'for-each-ref', '--format=%(refname:strip=2) %(objectname)', 'refs/heads/pkg*');
      for (const line of out.split('\n').filter(Boolean)) {
        const [branch, commit] = line.split(' ');
        all.set(`${dir} ${branch} ${commit}`, String(commit));
      }
    }
    return all;
  }

  test('kill -9 at any moment loses no job and never builds a head twice; a restart adds nothing', async () => {
    const random = seededRandom('crawler kill times');
    await using vhost: TestVhost = await createTestVhost('kiln-crawler-proc');
    const queue = await QueueReader.open(vhost.url);
    try {
      for (let r = 0; r < 8; r++) repos.push(await createTestRepo({ root, name: `pkg${r}` }));
      const bare = repos.map((r) => r.bare);
      const rounds = 5;
      for (let round = 0; round < rounds; round++) {
        await push(round, bare);
        const c = crawler(vhost.url);
        // Anywhere from start-up to the middle of publishing: a fault time, not a wait for anything.
        await sleep(random.between(400, 2600));
        c.child.kill('SIGKILL');
        await c.exited;
      }
      await push(rounds, bare);

      const last = crawler(vhost.url);
      const expected = await heads(bare);
      await waitFor(
        async () => {
          const builds = await buildRows(db.pool);
          const built = new Set(builds.map((b) => `${b.repo} ${b.branch} ${b.commit}`));
          return [...expected.keys()].every((k) => built.has(k)) && (await unpublished()) === 0;
        },
        'every head built and published',
        60_000,
      );
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);

      const builds = await buildRows(db.pool);
      // One build per (repo, branch, commit): never two for one head.
      const perHead = new Map<string, number>();
      for (const b of builds)
        perHead.set(`${b.repo} ${b.branch} ${b.commit}`, (perHead.get(`${b.repo} ${b.branch} ${b.commit}`) ?? 0) + 1);
      expect([...perHead.values()].filter((n) => n > 1)).toEqual([]);
      expect(builds.every((b) => b.branch?.startsWith('pkg'))).toBe(true);
      // Every build went out (at least once: a kill between confirm and mark repeats the same id).
      const messages = await queue.takeAtLeast(builds.length);
      const ids = new Set(messages.map((m) => m.messageId));
      expect(new Set(builds.map((b) => b.id))).toEqual(ids);
      for (const m of messages) expect(m.body.id).toBe(m.messageId);

      // A clean restart over the same state adds nothing.
      const again = crawler(vhost.url);
      await again.waitForLog((l) => l.msg === 'poll cycle done', 'a poll cycle');
      await again.waitForLog(
        (l) => l.msg === 'poll cycle done' && again.lines.filter((x) => x.msg === 'poll cycle done').length >= 2,
        'a second poll cycle',
      );
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
      expect(await buildRows(db.pool)).toHaveLength(builds.length);
      expect(await queue.drain()).toEqual([]);
    } finally {
      await queue.close();
    }
  });

  test('while RabbitMQ is stopped jobs wait; they are published when it is back', async () => {
    await using rabbit = await startOwnRabbit();
    const zlib = await createTestRepo({ root, name: 'zlib' });
    repos.push(zlib);
    const c = crawler(rabbit.url);
    await c.waitForLog((l) => l.msg === 'crawler started', 'start-up');
    let queue = await QueueReader.open(rabbit.url);
    const first = await zlib.pushBranch('zlib-1.3.1', { a: '1' });
    expect((await queue.take(1))[0]?.body).toMatchObject({ commit: first });
    await queue.close();

    await rabbit.stop();
    const hotfix = await zlib.pushBranch('zlib-1.3.1', { a: '2' }, 'hotfix');
    await waitFor(async () => (await buildRows(db.pool)).some((b) => b.commit === hotfix), 'the hotfix build recorded');
    await c.waitForLog((l) => l.msg.startsWith('cannot publish build jobs'), 'the relay noticing');
    expect(await unpublished()).toBe(1);
    // It keeps trying; nothing is lost or duplicated meanwhile.
    await c.waitForLog(
      () => c.lines.filter((l) => l.msg === 'still cannot publish build jobs').length >= 2,
      'two more tries',
    );
    expect(await unpublished()).toBe(1);
    expect(await buildRows(db.pool)).toHaveLength(2);

    await rabbit.start();
    queue = await QueueReader.open(rabbit.url);
    try {
      const [message] = await queue.take(1, 30_000);
      const build = (await buildRows(db.pool)).find((b) => b.commit === hotfix);
      expect(message).toMatchObject({ messageId: build?.id, body: { commit: hotfix, branch: 'zlib-1.3.1' } });
      await waitFor(async () => (await unpublished()) === 0, 'outbox marked');
      await c.waitForLog((l) => l.msg === 'publishing build jobs again', 'recovery line');
    } finally {
      await queue.close();
    }
  });
});

async function gitStdin(cwd: string, args: string[], input: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', args, { cwd, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`git ${args.join(' ')} exited ${code}`))));
    child.stdin.end(input);
  });
}
