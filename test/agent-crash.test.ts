/**
 * The agent when things break under it: an agent killed with -9 mid-build,
 * RabbitMQ restarted while a build runs, PostgreSQL restarted before the
 * result is written. Real processes, a RabbitMQ node and a PostgreSQL cluster
 * of the test's own (the shared ones are never restarted), Docker and git.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPool } from '@kiln/shared';
import {
  agentEnv,
  builds,
  containersOf,
  helloManifest,
  publishJob,
  readyJobs,
  releaseRepo,
  startTestAgent,
  waitUntil,
} from './helpers/agent-fixtures.js';
import { spawnCli, startOwnRabbit, type CliProcess } from './helpers/crawler-fixtures.js';
import {
  createSmtpSink,
  createTestDatabase,
  createTestVhost,
  type SmtpSink,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { startOwnPostgres } from './helpers/own-postgres.js';

jest.setTimeout(240_000);

let root: string;
const repos: TestRepo[] = [];
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-crash-'));
});
afterAll(async () => {
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

/** The build's row once it has a final status. */
function finishedBuild(db: TestDatabase, id: string, what: string) {
  return waitUntil(
    async () => {
      const rows = await builds(db.pool, 'id = $1', [id]);
      return rows[0] && ['succeeded', 'failed', 'errored'].includes(rows[0].status) && rows[0];
    },
    what,
    120_000,
  );
}

async function release(name: string, version: string, manifest: string) {
  const made = await releaseRepo(name, version, manifest, root);
  repos.push(made.repo);
  return made;
}

describe('an agent killed with -9 in the middle of a build', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  const children: CliProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('kiln_agent_crash');
    vhost = await createTestVhost('kiln-agent-crash');
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await vhost[Symbol.asyncDispose]();
    await db[Symbol.asyncDispose]();
  });

  it('is replaced by the next agent: one succeeded build, attempt 2, nothing of attempt 1 left', async () => {
    const { repo, branch } = await release('crashy', '1.0', helloManifest({ sleepSeconds: 8 }));
    const dirs = await mkdtemp(path.join(root, 'agent-1-'));
    const first = spawnCli(['agent'], agentEnv({ db, amqpUrl: vhost.url, agentId: 'agent-1', lease: '3s', dirs }));
    children.push(first);
    await first.waitForLog((l) => l.msg === 'agent started', 'agent-1 to start', 60_000);
    const id = randomUUID();
    await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
    await waitUntil(async () => {
      const logged = await db.pool.query("SELECT 1 FROM build_logs WHERE build_id = $1 AND chunk LIKE '%building%'", [
        id,
      ]);
      return (logged.rowCount ?? 0) > 0 && (await containersOf(id)).length > 0;
    }, 'attempt 1 to be inside its stage');
    const [running] = await builds(db.pool, 'id = $1', [id]);
    expect(running).toMatchObject({ status: 'running', attempt: 1, agent: 'agent-1' });
    const leftBehind = await containersOf(id);

    first.child.kill('SIGKILL');
    await first.exited;
    expect(await containersOf(id)).toEqual(leftBehind);

    // The new agent shares the dead one's work folder, as agents on one host do.
    await using _second = await startTestAgent({
      db,
      amqpUrl: vhost.url,
      agentId: 'agent-2',
      lease: '3s',
      env: { KILN_WORK_DIR: path.join(dirs, 'work') },
    });
    const done = await finishedBuild(db, id, 'attempt 2 to finish');
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, agent: 'agent-2' });
    expect(await builds(db.pool, 'branch = $1', [branch])).toHaveLength(1);
    expect(await containersOf(id)).toEqual([]);
    for (const container of leftBehind) expect(await containersOf(id)).not.toContain(container);
    const attempts = await db.pool.query(
      'SELECT DISTINCT attempt FROM build_logs WHERE build_id = $1 ORDER BY attempt',
      [id],
    );
    expect(attempts.rows.map((r) => r.attempt)).toEqual([1, 2]);
    expect(await readyJobs(vhost.url)).toBe(0);
    // Attempt 1's checkout went when attempt 2 began; attempt 2's when it finished.
    expect(await readdir(path.join(dirs, 'work'))).toEqual([]);
  });
});

describe('a failing build whose agent was killed with -9 and whose job was redelivered', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let smtp: SmtpSink;
  const children: CliProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('kiln_agent_crash_mail');
    vhost = await createTestVhost('kiln-agent-crash-mail');
    smtp = await createSmtpSink();
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await smtp[Symbol.asyncDispose]();
    await vhost[Symbol.asyncDispose]();
    await db[Symbol.asyncDispose]();
  });

  it('emails the maintainer once', async () => {
    const manifest = [
      'image: kiln/busybox:latest',
      'package:',
      '  maintainer: Crash Maintainer <crash@example.org>',
      'stages: [build]',
      'build:',
      '  script:',
      '    - echo building',
      '    - sleep 6',
      '    - exit 3',
      '',
    ].join('\n');
    const { repo, branch } = await release('crashmail', '2.0', manifest);
    const dirs = await mkdtemp(path.join(root, 'agent-mail-1-'));
    const env = { db, amqpUrl: vhost.url, smtpUrl: smtp.url, lease: '3s', dirs };
    const first = spawnCli(['agent'], agentEnv({ ...env, agentId: 'mail-agent-1' }));
    children.push(first);
    await first.waitForLog((l) => l.msg === 'agent started', 'mail-agent-1 to start', 60_000);
    const id = randomUUID();
    await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
    await waitUntil(async () => (await containersOf(id)).length > 0, 'attempt 1 to be inside its stage');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = spawnCli(['agent'], agentEnv({ ...env, agentId: 'mail-agent-2' }));
    children.push(second);
    const done = await finishedBuild(db, id, 'attempt 2 to finish');
    expect(done).toMatchObject({ status: 'failed', attempt: 2, agent: 'mail-agent-2' });
    const [mail] = await smtp.waitForMessages(1, 60_000);
    expect(mail?.envelopeTo).toEqual(['crash@example.org']);
    expect(mail?.subject).toBe('[kiln] crashmail-2.0 failed in build: exit 3 exited 3');

    // A third agent that receives the job again (as after a crash between commit and ack)
    // builds nothing and sends nothing more.
    await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
    await waitUntil(async () => (await readyJobs(vhost.url)) === 0, 'the duplicate to be taken');
    await new Promise((r) => setTimeout(r, 3000));
    const rows = await db.pool.query('SELECT status, attempts, sent_at FROM notifications WHERE build_id = $1', [id]);
    expect(rows.rows).toEqual([{ status: 'sent', attempts: 1, sent_at: expect.any(Date) }]);
    expect(smtp.messages).toHaveLength(1);
    expect(await builds(db.pool, 'branch = $1', [branch])).toHaveLength(1);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});

describe('RabbitMQ restarted while a build runs', () => {
  it('loses no job: the build is recorded once, the redelivery acknowledged, and the agent serves new jobs', async () => {
    await using rabbit = await startOwnRabbit();
    await using db = await createTestDatabase('kiln_agent_rabbit');
    const { repo, branch } = await release('steady', '1.0', helloManifest({ sleepSeconds: 5 }));
    await using agent = await startTestAgent({ db, amqpUrl: rabbit.url, agentId: 'agent-r', concurrency: 2 });
    const id = randomUUID();
    await publishJob(rabbit.url, { id, repo: repo.bare, branch });
    await waitUntil(async () => (await containersOf(id)).length > 0, 'the build to run');

    await rabbit.stop();
    await waitUntil(async () => {
      const health = await fetch(`http://127.0.0.1:${agent.service.port}/healthz`);
      return health.status === 503 && ((await health.json()) as { broker: string }).broker === 'disconnected';
    }, 'the agent to notice');
    await rabbit.start();

    const [row] = await waitUntil(
      async () => {
        const rows = await builds(db.pool, 'id = $1', [id]);
        return rows[0]?.status === 'succeeded' && rows;
      },
      'the build to be recorded',
      120_000,
    );
    expect(row).toMatchObject({ attempt: 1, agent: 'agent-r' });
    // The message the dead channel could not ack comes back, is seen as done, and is acknowledged.
    await waitUntil(
      async () => (await readyJobs(rabbit.url)) === 0 && (await agent.service.checkHealth()).workers.busy === 0,
      'the queue to drain',
    );
    const metrics = await (await fetch(`http://127.0.0.1:${agent.service.port}/metrics`)).text();
    expect(metrics).toContain('kiln_agent_jobs_total{status="duplicate"} 1');

    const { repo: repo2, branch: branch2 } = await release('after', '1.0', helloManifest());
    await publishJob(rabbit.url, { repo: repo2.bare, branch: branch2 });
    await waitUntil(
      async () => (await builds(db.pool, "branch = $1 AND status = 'succeeded'", [branch2])).length,
      'a job after the restart',
    );
    expect(await builds(db.pool, 'true')).toHaveLength(2);
  });
});

describe('PostgreSQL restarted in the middle of a build', () => {
  it('writes the result once the database is back, and acknowledges only then', async () => {
    await using pg = await startOwnPostgres();
    await using vhost = await createTestVhost('kiln-agent-pg');
    const pool = createPool(pg.url, { max: 2 });
    try {
      const { repo, branch } = await release('durable', '1.0', helloManifest({ sleepSeconds: 4 }));
      await using _agent = await startTestAgent({ db: pg, amqpUrl: vhost.url, agentId: 'agent-p' });
      const id = randomUUID();
      await publishJob(vhost.url, { id, repo: repo.bare, branch });
      await waitUntil(async () => (await containersOf(id)).length > 0, 'the build to run');
      await pg.stop();
      // Down across the end of the build: the result must wait for the database.
      await waitUntil(
        async () => (await containersOf(id)).length === 0,
        'the build to end while the database is down',
        60_000,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      await pg.start();
      const [row] = await waitUntil(
        async () => {
          const rows = await builds(pool, 'id = $1', [id]).catch(() => []);
          return rows[0]?.status === 'succeeded' && rows;
        },
        'the result after the restart',
        120_000,
      );
      expect(row).toMatchObject({ attempt: 1, agent: 'agent-p' });
      const pkg = await pool.query("SELECT build_id::text AS id FROM packages WHERE name = 'durable'");
      expect(pkg.rows[0]?.id).toBe(id);
      await waitUntil(async () => (await readyJobs(vhost.url)) === 0, 'the queue to be empty');
    } finally {
      await pool.end();
    }
  });
});
