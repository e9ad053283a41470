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
import { getBuild } from '@kiln/agent';
import { createPool } from '@kiln/shared';
import {
  agentEnv,
  builds,
  containersOf,
  helloManifest,
  publishJob,
  readyMessages,
  HOST_ARCH_QUEUE,
  releaseRepo,
  startTestAgent,
  waitForAcked,
  waitUntil,
} from './helpers/agent-fixtures.js';
import { captureLogs, spawnCli, startOwnRabbit, type CliProcess } from './helpers/crawler-fixtures.js';
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

  it('is replaced by the next agent: one succeeded build, attempt 2; the rows of attempt 1 stay as it left them', async () => {
    const { repo, branch } = await release('crashy', '1.0', helloManifest({ sleepSeconds: 8 }));
    const dirs = await mkdtemp(path.join(root, 'agent-1-'));
    const first = spawnCli(['agent'], agentEnv({ db, amqpUrl: vhost.url, agentId: 'agent-1', lease: '3s', dirs }));
    children.push(first);
    await first.waitForLog((l) => l.msg === 'agent started', 'agent-1 to start', 60_000);
    const id = randomUUID();
    await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
    // Inside its stage, with what it records live already written: a log, a running stage, a finished line.
    await waitUntil(async () => {
      const { rows } = await db.pool.query<{ logged: boolean; stage: boolean; command: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM build_logs WHERE build_id = $1 AND chunk LIKE '%building%') AS logged,
                EXISTS (SELECT 1 FROM build_stages WHERE build_id = $1 AND status = 'running') AS stage,
                EXISTS (SELECT 1 FROM build_commands WHERE build_id = $1 AND command = 'echo building') AS command`,
        [id],
      );
      const live = rows[0];
      return live?.logged && live.stage && live.command && (await containersOf(id)).length > 0;
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
    // Attempt 1's delivery was never acked (it came back when its agent died); attempt 2's was, once.
    expect(await waitForAcked(vhost, 1)).toMatchObject({ acked: 1 });
    // Attempt 1's checkout went when attempt 2 began; attempt 2's when it finished.
    expect(await readdir(path.join(dirs, 'work'))).toEqual([]);

    // Each attempt's rows under its own number: attempt 1's written once and never rewritten (its stage
    // still running, its last line unfinished, as the kill left them); attempt 2's complete.
    const { rows: claimed } = await db.pool.query<{ started_at: Date }>('SELECT started_at FROM builds WHERE id = $1', [
      id,
    ]);
    const attempt2Began = claimed[0]!.started_at.getTime();
    const { rows: dead1 } = await db.pool.query<{ stage: string; status: string; commands: string[] }>(
      `SELECT s.name AS stage, s.status, array(SELECT c.command || ':' || COALESCE(c.exit_code::text, 'open')
                                                FROM build_commands c
                                               WHERE c.build_id = s.build_id AND c.attempt = 1
                                               ORDER BY c.stage_position, c.position) AS commands
         FROM build_stages s WHERE s.build_id = $1 AND s.attempt = 1 ORDER BY s.position`,
      [id],
    );
    expect(dead1).toMatchObject([{ stage: 'build', status: 'running' }]);
    // Killed during `sleep 8`: its row is there unfinished, unless the kill came before it was written.
    const deadLines = dead1[0]!.commands;
    expect(deadLines).toEqual(['echo building:0', 'sleep 8:open'].slice(0, Math.max(1, deadLines.length)));
    const { rows: stages } = await db.pool.query<{ position: number; name: string; status: string; started_at: Date }>(
      'SELECT position, name, status, started_at FROM build_stages WHERE build_id = $1 AND attempt = 2 ORDER BY position',
      [id],
    );
    expect(stages.map(({ position, name, status }) => ({ position, name, status }))).toEqual([
      { position: 0, name: 'build', status: 'succeeded' },
      { position: 1, name: 'install', status: 'succeeded' },
    ]);
    for (const stage of stages) expect(stage.started_at.getTime()).toBeGreaterThanOrEqual(attempt2Began);
    const { rows: commands } = await db.pool.query<{
      stage_position: number;
      command: string;
      exit_code: number;
      started_at: Date;
    }>(
      `SELECT stage_position, command, exit_code, started_at FROM build_commands
        WHERE build_id = $1 AND attempt = 2 ORDER BY stage_position, position`,
      [id],
    );
    expect(commands.map(({ stage_position, command, exit_code }) => [stage_position, command, exit_code])).toEqual([
      [0, 'echo building', 0],
      [0, 'sleep 8', 0],
      [0, 'echo slept', 0],
      [0, `printf '#!/bin/sh\\necho hello\\n' > hello`, 0],
      [1, 'mkdir -p "$DESTDIR/usr/bin"', 0],
      [1, 'cp hello "$DESTDIR/usr/bin/hello" && chmod 755 "$DESTDIR/usr/bin/hello"', 0],
    ]);
    for (const command of commands) expect(command.started_at.getTime()).toBeGreaterThanOrEqual(attempt2Began);
    // What `kiln status` and kiln server read: the current attempt's stages and lines only.
    const shown = await getBuild(db.pool, id);
    expect(shown?.stages.map((st) => [st.name, st.status, st.commands.length])).toEqual([
      ['build', 'succeeded', 4],
      ['install', 'succeeded', 2],
    ]);
    const { rows: logs } = await db.pool.query<{ attempt: number; seqs: number[]; text: string }>(
      `SELECT attempt, array_agg(seq ORDER BY seq) AS seqs, string_agg(chunk, '' ORDER BY seq) AS text
         FROM build_logs WHERE build_id = $1 GROUP BY attempt ORDER BY attempt`,
      [id],
    );
    expect(logs.map((l) => l.attempt)).toEqual([1, 2]);
    const [dead, winner] = logs;
    expect(dead!.text).toMatch(/^\[kiln\] attempt 1 on agent-1: /);
    expect(dead!.text).not.toContain('slept');
    expect(winner!.seqs).toEqual(winner!.seqs.map((_, i) => i));
    expect(winner!.text).toMatch(/^\[kiln\] attempt 2 on agent-2: /);
    expect(winner!.text).not.toContain('attempt 1');
    expect(winner!.text.match(/^building$/gm)).toHaveLength(1);
    expect(winner!.text.match(/^slept$/gm)).toHaveLength(1);
    const { rows: files } = await db.pool.query('SELECT path, kind FROM package_files WHERE build_id = $1', [id]);
    expect(files).toEqual([{ path: '/usr/bin/hello', kind: 'executable' }]);
    const { rows: pkg } = await db.pool.query(
      "SELECT build_id::text AS build_id, file_count FROM packages WHERE name = 'crashy'",
    );
    expect(pkg).toEqual([{ build_id: id, file_count: 1 }]);
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

    // The job delivered once more (as after a crash between commit and ack): acknowledged as a
    // duplicate, built no more, mailed no more. Waited for by what ends it (the ack), not by a clock.
    await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
    expect(await waitForAcked(vhost, 2, 'attempt 2 and the extra delivery to be acked', 90_000)).toMatchObject({
      acked: 2,
    });
    // Whatever was queued has gone out (or for good failed) before the mailbox is counted.
    await waitUntil(async () => {
      const { rows } = await db.pool.query("SELECT 1 FROM notifications WHERE status = 'pending'");
      return rows.length === 0;
    }, 'no email left to send');
    expect(smtp.messages).toHaveLength(1);
    const rows = await db.pool.query('SELECT status, attempts, sent_at FROM notifications WHERE build_id = $1', [id]);
    expect(rows.rows).toEqual([{ status: 'sent', attempts: 1, sent_at: expect.any(Date) }]);
    expect(await builds(db.pool, 'branch = $1', [branch])).toEqual([
      expect.objectContaining({ id, status: 'failed', attempt: 2, agent: 'mail-agent-2' }),
    ]);
    await second.waitForLog(
      (l) => l.msg === 'build already recorded: acknowledging the duplicate delivery' && l.buildId === id,
      'the duplicate to be recognised',
    );
    second.child.kill('SIGTERM');
    await second.exited;
  });
});

describe('RabbitMQ restarted while a build runs', () => {
  it('loses no job: the build is recorded once, the redelivery acknowledged, and the agent serves new jobs', async () => {
    await using rabbit = await startOwnRabbit({ management: true });
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
    // The message the dead channel could not ack comes back, is seen as done, and is acknowledged
    // (the restarted node counts from zero: this ack is its first).
    expect(await waitForAcked(rabbit, 1, 'the redelivery to be acked')).toMatchObject({ acked: 1 });
    await waitUntil(async () => (await agent.service.checkHealth()).workers.busy === 0, 'the workers to be idle');
    const metrics = await (await fetch(`http://127.0.0.1:${agent.service.port}/metrics`)).text();
    expect(metrics).toContain('kiln_agent_jobs_total{status="duplicate"} 1');

    const { repo: repo2, branch: branch2 } = await release('after', '1.0', helloManifest());
    await publishJob(rabbit.url, { repo: repo2.bare, branch: branch2 });
    await waitUntil(
      async () => (await builds(db.pool, "branch = $1 AND status = 'succeeded'", [branch2])).length,
      'a job after the restart',
    );
    expect(await builds(db.pool, 'true')).toHaveLength(2);
    // Since the restart: the redelivery (above) and the new job's build on the arch's queue, and the
    // new job routed from build_queue (a router acks it once its arch's job is confirmed): three in all.
    expect(
      await waitForAcked(rabbit, 3, 'the new job routed and built', 60_000, ['build_queue', HOST_ARCH_QUEUE]),
    ).toMatchObject({ acked: 3 });
  });
});

describe('PostgreSQL down when a build ends', () => {
  it('keeps the message unacknowledged while the result cannot be written, and acks once it is', async () => {
    await using pg = await startOwnPostgres();
    await using vhost = await createTestVhost('kiln-agent-pg');
    const pool = createPool(pg.url, { max: 2 });
    const logs = captureLogs('info');
    try {
      const { repo, branch } = await release('durable', '1.0', helloManifest({ sleepSeconds: 4 }));
      await using _agent = await startTestAgent({
        db: pg,
        amqpUrl: vhost.url,
        agentId: 'agent-p',
        logger: logs.logger,
      });
      const id = randomUUID();
      await publishJob(vhost.url, { id, repo: repo.bare, branch });
      await waitUntil(async () => (await containersOf(id)).length > 0, 'the build to run');
      await pg.stop();
      // Down across the end of the build: the result must wait for the database.
      await waitUntil(
        async () =>
          logs.lines.find(
            (l) =>
              l.msg === 'could not record the result; retrying (the message stays unacknowledged)' && l.buildId === id,
          ),
        'the agent to try to record the result',
        60_000,
      );
      // The containers go while the result is being recorded (the two overlap), database or not.
      await waitUntil(async () => (await containersOf(id)).length === 0, 'the containers to be removed');
      // The broker's view meanwhile: held by the agent, not acknowledged, not back in the queue.
      expect(
        await waitUntil(async () => {
          const stats = await vhost.queueStats(HOST_ARCH_QUEUE);
          return stats && stats.delivered >= 1 && stats.unacked === 1 && stats;
        }, 'the broker to count the delivery'),
      ).toMatchObject({ ready: 0, unacked: 1, acked: 0 });
      expect(await readyMessages(vhost.url)).toBe(0);

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
      expect(await waitForAcked(vhost, 1)).toMatchObject({ acked: 1, ready: 0, unacked: 0 });
    } finally {
      await pool.end();
    }
  });

  it('gives the job back when its agent dies while the result waits for the database: it was never acked', async () => {
    await using pg = await startOwnPostgres();
    await using vhost = await createTestVhost('kiln-agent-pg-kill');
    const pool = createPool(pg.url, { max: 2 });
    const dirs = await mkdtemp(path.join(root, 'agent-pg-'));
    let first: CliProcess | undefined;
    try {
      const { repo, branch } = await release('patient', '1.0', helloManifest({ sleepSeconds: 3 }));
      first = spawnCli(['agent'], agentEnv({ db: pg, amqpUrl: vhost.url, agentId: 'agent-q1', lease: '3s', dirs }));
      await first.waitForLog((l) => l.msg === 'agent started', 'agent-q1 to start', 60_000);
      const id = randomUUID();
      await publishJob(vhost.url, { id, repo: repo.bare, branch });
      await waitUntil(async () => (await containersOf(id)).length > 0, 'the build to run');
      await pg.stop();
      await first.waitForLog(
        (l) => l.msg === 'could not record the result; retrying (the message stays unacknowledged)' && l.buildId === id,
        'the agent to try to record the result',
        60_000,
      );
      expect(await readyMessages(vhost.url)).toBe(0);
      first.child.kill('SIGKILL');
      await first.exited;
      // The broker gives back only what was never acknowledged: the exact count, not a sample.
      await waitUntil(async () => (await readyMessages(vhost.url)) === 1, 'the job to come back to the queue');

      await pg.start();
      await using _second = await startTestAgent({ db: pg, amqpUrl: vhost.url, agentId: 'agent-q2', lease: '3s' });
      const [row] = await waitUntil(
        async () => {
          const rows = await builds(pool, 'id = $1', [id]);
          return rows[0]?.status === 'succeeded' && rows;
        },
        'attempt 2 to be recorded',
        120_000,
      );
      expect(row).toMatchObject({ attempt: 2, agent: 'agent-q2' });
      expect(await waitForAcked(vhost, 1)).toMatchObject({ acked: 1 });
    } finally {
      if (first?.child.exitCode === null) first.child.kill('SIGKILL');
      await pool.end();
    }
  });
});
