import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { kilnCommand } from './helpers/cli.js';
import { buildRows, QueueReader } from './helpers/crawler-fixtures.js';

jest.setTimeout(60_000);

const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kiln submit` as a real process against a real repository, database and broker. */
describe('kiln submit', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let repo: TestRepo;
  let queue: QueueReader;
  let commit: string;

  beforeAll(async () => {
    [db, vhost, repo] = await Promise.all([
      createTestDatabase('kiln_submit'),
      createTestVhost('kiln-submit'),
      createTestRepo({ name: 'zlib' }),
    ]);
    commit = await repo.pushBranch('zlib-1.3.1', { 'zlib.c': '1\n' });
    queue = await QueueReader.open(vhost.url);
  });

  afterEach(async () => {
    await db.pool.query('TRUNCATE builds, job_outbox CASCADE');
    await queue.drain();
  });

  afterAll(async () => {
    await queue.close();
    await repo[Symbol.asyncDispose]();
    await vhost[Symbol.asyncDispose]();
    await db[Symbol.asyncDispose]();
  });

  async function submit(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    try {
      const { stdout, stderr } = await run(...kilnCommand('submit', ...args), {
        env: { ...process.env, KILN_DATABASE_URL: db.url, KILN_AMQP_URL: vhost.url, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  test('records a queued build, publishes the full job and prints its id', async () => {
    const result = await submit([repo.bare, 'zlib-1.3.1', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const printed = JSON.parse(result.stdout) as { id: string };
    expect(printed).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      repo: repo.bare,
      branch: 'zlib-1.3.1',
      commit,
      package: { name: 'zlib', version: '1.3.1' },
      arch: null,
      recorded: true,
      published: true,
    });
    const [message] = await queue.take(1);
    expect(message).toMatchObject({
      messageId: printed.id,
      deliveryMode: 2,
      body: {
        id: printed.id,
        repo: repo.bare,
        branch: 'zlib-1.3.1',
        commit,
        trigger: 'cli',
        package: { name: 'zlib', version: '1.3.1' },
      },
    });
    expect(await buildRows(db.pool)).toEqual([
      expect.objectContaining({ id: printed.id, status: 'queued', trigger: 'cli', commit }),
    ]);
    const outbox = await db.pool.query('SELECT published_at FROM job_outbox');
    expect(outbox.rows[0]?.published_at).toBeInstanceOf(Date);
  });

  test('without a branch it builds the default branch; plain output is the id alone', async () => {
    const result = await submit([repo.bare]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const [message] = await queue.take(1);
    expect(message?.body).toMatchObject({ id: result.stdout.trim(), branch: 'main', trigger: 'cli' });
    expect(message?.body.package).toBeUndefined();
  });

  test.each([
    [
      ['ext::sh -c touch% /tmp/kiln-pwned'],
      /^kiln: repository "ext::sh -c touch% \/tmp\/kiln-pwned" contains whitespace/,
    ],
    // Option-looking arguments never reach Kiln's code: the parser refuses them.
    [['--upload-pack=touch /tmp/kiln-pwned'], /^error: unknown option '--upload-pack=touch \/tmp\/kiln-pwned'/],
    [['/srv/x.git', '--upload-pack=evil'], /^error: unknown option '--upload-pack=evil'/],
    [['/srv/x.git', '--', '--upload-pack=evil'], /^kiln: branch "--upload-pack=evil" is not a safe git branch name/],
    [['/srv/x.git', 'a\u0001b-1.0'], /^kiln: branch "a\\u0001b-1.0" is not a safe git branch name/],
  ])('refuses hostile input %j with exit 2, publishing nothing', async (args, message) => {
    const result = await submit(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await queue.drain()).toEqual([]);
    expect(await buildRows(db.pool)).toEqual([]);
  });

  test('a branch the repository does not have is a usage error', async () => {
    const result = await submit([repo.bare, 'zlib-9.9']);
    expect(result).toMatchObject({ code: 2, stderr: `kiln: ${repo.bare} has no branch zlib-9.9\n` });
  });

  test('with the database unreachable it still publishes, and says so', async () => {
    const result = await submit([repo.bare, 'zlib-1.3.1', '--json'], {
      KILN_DATABASE_URL: 'postgres://kiln:pw@127.0.0.1:1/kiln',
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^kiln: warning: cannot reach PostgreSQL at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/kiln/,
    );
    expect(result.stderr).not.toContain('pw@');
    expect(JSON.parse(result.stdout)).toMatchObject({ recorded: false, published: true });
    expect(await queue.take(1)).toHaveLength(1);
  });

  test('with RabbitMQ unreachable the build stays in the outbox for the crawler, exit 1', async () => {
    const result = await submit([repo.bare, 'zlib-1.3.1', '--json'], {
      KILN_AMQP_URL: 'amqp://guest:secret@127.0.0.1:1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /could not publish the job \(cannot reach RabbitMQ at amqp:\/\/\*\*\*@127\.0\.0\.1:1/,
    );
    expect(result.stderr).not.toContain('secret');
    const printed = JSON.parse(result.stdout) as { id: string };
    expect(printed).toMatchObject({ recorded: true, published: false });
    const outbox = await db.pool.query('SELECT build_id, published_at FROM job_outbox');
    expect(outbox.rows).toEqual([{ build_id: printed.id, published_at: null }]);
  });
});
