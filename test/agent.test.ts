import { jest } from '@jest/globals';
/**
 * `kiln agent` against the real services: RabbitMQ (a vhost of its own),
 * PostgreSQL (a database of its own), Docker (kiln/busybox) and git.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { connectAmqp } from '@kiln/shared';
import { runCli } from '../src/cli/main.js';
import {
  FAILING_MANIFEST,
  builds,
  containersOf,
  helloManifest,
  publishJob,
  readyMessages,
  HOST_ARCH_QUEUE,
  releaseRepo,
  startTestAgent,
  takeDeadLetters,
  waitForAcked,
  waitUntil,
} from './helpers/agent-fixtures.js';
import {
  createSmtpSink,
  createTestDatabase,
  createTestVhost,
  type SmtpSink,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';

jest.setTimeout(180_000);

let db: TestDatabase;
let vhost: TestVhost;
let smtp: SmtpSink;
let root: string;
const repos: TestRepo[] = [];

beforeAll(async () => {
  db = await createTestDatabase('kiln_agent');
  vhost = await createTestVhost('kiln-agent');
  smtp = await createSmtpSink();
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-agent-repos-'));
});
afterAll(async () => {
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await smtp[Symbol.asyncDispose]();
  await vhost[Symbol.asyncDispose]();
  await db[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

async function release(name: string, version: string, manifest: string) {
  const made = await releaseRepo(name, version, manifest, root);
  repos.push(made.repo);
  return made;
}

async function metricsOf(port: number | null): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** `kiln_agent_jobs_total` by status, from a Prometheus text page. */
function jobCounts(metrics: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of metrics.matchAll(/^kiln_agent_jobs_total\{status="([a-z]+)"\} (\d+)$/gm)) {
    if (Number(m[2]) > 0) counts[m[1] ?? ''] = Number(m[2]);
  }
  return counts;
}

const finished = (status: string): boolean => ['succeeded', 'failed', 'errored', 'cancelled'].includes(status);

function captureIo() {
  let out = '';
  let err = '';
  return {
    io: {
      out: (t: string) => void (out += t),
      err: (t: string) => void (err += t),
      isTty: false,
      env: { KILN_DATABASE_URL: db.url },
    },
    out: () => out,
    err: () => err,
  };
}

describe('kiln agent', () => {
  it('builds a release branch dropped as minimal JSON and records the package with its files', async () => {
    const { repo, branch, commit } = await release('hello', '1.0.0', helloManifest());
    await using _agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-a', smtpUrl: smtp.url });
    await publishJob(vhost.url, `{"repo": "${repo.bare}", "branch": "${branch}"}`);
    const [build] = await waitUntil(async () => {
      const rows = await builds(db.pool, 'branch = $1', [branch]);
      return rows.length > 0 && rows.every((r) => finished(r.status)) && rows;
    }, 'the hello build');
    expect(build).toMatchObject({
      status: 'succeeded',
      attempt: 1,
      agent: 'agent-a',
      commit,
      package_name: 'hello',
      package_version: '1.0.0',
    });
    const pkg = await db.pool.query(
      'SELECT build_id::text AS id, file_count, artifact, artifact_format FROM packages WHERE name = $1 AND version = $2',
      ['hello', '1.0.0'],
    );
    expect(pkg.rows[0]?.id).toBe(build?.id);
    // The artifact's format is recorded with it: what serves or reads it goes by that.
    expect(pkg.rows[0]).toMatchObject({ artifact: expect.stringMatching(/\.tar\.gz$/), artifact_format: 'tar.gz' });
    const files = await db.pool.query('SELECT path, kind FROM package_files WHERE build_id = $1 ORDER BY path', [
      build?.id,
    ]);
    expect(files.rows).toContainEqual({ path: '/usr/bin/hello', kind: 'executable' });
    const stages = await db.pool.query('SELECT name, status FROM build_stages WHERE build_id = $1 ORDER BY position', [
      build?.id,
    ]);
    expect(stages.rows).toEqual([
      { name: 'build', status: 'succeeded' },
      { name: 'install', status: 'succeeded' },
    ]);
    const log = await db.pool.query(
      "SELECT string_agg(chunk, '' ORDER BY seq) AS text FROM build_logs WHERE build_id = $1 AND attempt = 1",
      [build?.id],
    );
    expect(log.rows[0]?.text).toContain('building\n');
    expect(await containersOf(build?.id ?? '')).toEqual([]);
    // Two acks: the minimal message on build_queue (once routed in full, with an id, to the host arch's queue)
    // and the routed one (once recorded).
    expect(await waitForAcked(vhost, 2, undefined, undefined, ['build_queue', HOST_ARCH_QUEUE])).toMatchObject({
      acked: 2,
      ready: 0,
      unacked: 0,
    });

    // kiln status / kiln logs read what the agent wrote.
    const list = captureIo();
    expect(await runCli(['node', 'kiln', 'status', '--json'], list.io)).toBe(0);
    expect(JSON.parse(list.out())).toContainEqual(
      expect.objectContaining({ id: build?.id, status: 'succeeded', package: { name: 'hello', version: '1.0.0' } }),
    );
    const one = captureIo();
    expect(await runCli(['node', 'kiln', 'status', (build?.id ?? '').slice(0, 8)], one.io)).toBe(0);
    expect(one.out()).toMatch(/status\s+succeeded \(attempt 1 on agent-a\)/);
    expect(one.out()).toContain('$ echo building');
    const logs = captureIo();
    expect(await runCli(['node', 'kiln', 'logs', build?.id ?? ''], logs.io)).toBe(0);
    expect(logs.out()).toContain('building\n');
  });

  it('dead-letters garbage and wrong types with the reason, records an unknown repository errored, and serves the next job', async () => {
    const { repo, branch } = await release('next', '2.0', helloManifest());
    await using agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-b', smtpUrl: smtp.url });
    const unknownId = randomUUID();
    await publishJob(vhost.url, 'this is not json', { messageId: 'garbage-1' });
    await publishJob(vhost.url, { repo: 42, branch: ['x'] });
    await publishJob(vhost.url, { id: unknownId, repo: path.join(root, 'does-not-exist.git'), branch: 'ghost-1.0' });
    await publishJob(vhost.url, { repo: repo.bare, branch });

    const [next] = await waitUntil(async () => {
      const rows = await builds(db.pool, 'branch = $1', [branch]);
      return rows.length > 0 && rows.every((r) => finished(r.status)) && rows;
    }, 'the job after the bad ones');
    expect(next?.status).toBe('succeeded');
    const [ghost] = await builds(db.pool, 'id = $1', [unknownId]);
    expect(ghost).toMatchObject({ status: 'errored', failed_stage: 'checkout' });
    expect(ghost?.error).toMatch(/does-not-exist\.git/);

    const dead = await waitUntil(async () => {
      const taken = await takeDeadLetters(vhost.url);
      return taken.length > 0 && taken;
    }, 'dead letters');
    expect(dead).toHaveLength(2);
    expect(dead[0]?.body).toBe('this is not json');
    expect(String(dead[0]?.headers['x-kiln-reason'])).toMatch(/^not valid JSON/);
    expect(dead[0]?.headers['x-kiln-agent']).toBe('agent-b');
    expect(String(dead[1]?.headers['x-kiln-reason'])).toMatch(/^not a BuildJob: repo: .*branch/);
    const health = await fetch(`http://127.0.0.1:${agent.service.port}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${agent.service.port}/metrics`)).text();
    expect(metrics).toContain('kiln_agent_jobs_total{status="invalid"} 2');
    expect(metrics).toContain('kiln_agent_jobs_total{status="errored"} 1');
  });

  it('records a failing build with its stage, command and exit code, and emails the maintainer', async () => {
    const { repo, branch } = await release(
      'broken',
      '0.1',
      FAILING_MANIFEST.replace('stages:', 'package:\n  maintainer: Jane Doe <jane@example.org>\nstages:'),
    );
    await using agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-c', smtpUrl: smtp.url });
    await publishJob(vhost.url, { repo: repo.bare, branch });
    const [build] = await waitUntil(async () => {
      const rows = await builds(db.pool, 'branch = $1', [branch]);
      return rows.length > 0 && rows.every((r) => finished(r.status)) && rows;
    }, 'the broken build');
    expect(build).toMatchObject({ status: 'failed', failed_stage: 'build', failed_command: 'exit 3', exit_code: 3 });
    const mail = await smtp.waitForMessages(1, 30_000);
    expect(mail.some((m) => m.envelopeTo.includes('jane@example.org'))).toBe(true);
    void agent;
  });

  it('masks a secret split across output chunks in the stored log, the build row and the email', async () => {
    const secret = 'split-secret-42';
    const { repo, branch } = await release(
      'leaky',
      '1.0',
      [
        'image: kiln/busybox:latest',
        'package:',
        '  maintainer: Sec Ops <secops@example.org>',
        'environment:',
        `  vars: [DEPLOY_TOKEN=${secret}, PLAIN=visible]`,
        'stages: [noisy, leak]',
        // stderr in a stage of its own: the two streams may interleave in any order within a stage.
        'noisy:',
        '  script:',
        '    - echo "$DEPLOY_TOKEN" >&2; echo "$PLAIN"',
        'leak:',
        '  script:',
        // Two writes a moment apart: the value reaches the agent in two pieces (the script never spells them out).
        `    - printf 'a %s' "\${DEPLOY_TOKEN%????????}"; sleep 0.5; printf '%s b\\n' "\${DEPLOY_TOKEN#???????}"`,
        `    - echo "command with ${secret} in it"`,
        '    - exit 3',
        '',
      ].join('\n'),
    );
    await using _agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-s', smtpUrl: smtp.url });
    const id = randomUUID();
    const live: string[] = [];
    const connection = await connectAmqp(vhost.url);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange('kiln.events', 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, 'kiln.events', `build.${id}.log`);
      await channel.consume(queue, (msg) => msg && live.push(msg.content.toString('utf8')), { noAck: true });
      await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
      const [build] = await waitUntil(async () => {
        const rows = await builds(db.pool, 'id = $1', [id]);
        return rows[0] && finished(rows[0].status) && rows;
      }, 'the leaky build');
      expect(build).toMatchObject({ status: 'failed', failed_stage: 'leak', failed_command: 'exit 3', exit_code: 3 });
    } finally {
      await connection.close();
    }

    const { rows: chunks } = await db.pool.query<{ seq: number; stream: string; chunk: string }>(
      'SELECT seq, stream, chunk FROM build_logs WHERE build_id = $1 ORDER BY attempt, seq',
      [id],
    );
    const stdout = chunks.filter((c) => c.stream === 'stdout').map((c) => c.chunk);
    // The two pieces arrived (and were stored) as chunks of their own, and together they are masked.
    expect(stdout.join('')).toBe('visible\na *** b\ncommand with *** in it\n');
    expect(stdout.length).toBeGreaterThan(1);
    expect(
      chunks
        .filter((c) => c.stream === 'stderr')
        .map((c) => c.chunk)
        .join(''),
    ).toBe('***\n');
    const { rows: stored } = await db.pool.query<{ text: string }>(
      `SELECT concat_ws(' ', (SELECT (to_jsonb(b) - 'manifest')::text FROM builds b WHERE b.id = $1),
                             (SELECT json_agg(s)::text FROM build_stages s WHERE s.build_id = $1),
                             (SELECT json_agg(c)::text FROM build_commands c WHERE c.build_id = $1),
                             (SELECT json_agg(l)::text FROM build_logs l WHERE l.build_id = $1)) AS text`,
      [id],
    );
    // The manifest is kept with the build as committed (the value is in the repository anyway);
    // the row's report and error, the stages, commands and log hold neither the value nor a piece of it.
    expect(stored[0]?.text).toContain('command with *** in it');
    expect(stored[0]?.text).not.toMatch(/split-s|ecret-42/);
    expect(live.join('')).toContain('a ');
    expect(live.join('')).not.toMatch(/split-s|ecret-42/);

    const mail = await waitUntil(
      async () => smtp.messages.find((m) => m.header('x-kiln-build') === id),
      'the failure email',
    );
    expect(mail.envelopeTo).toEqual(['secops@example.org']);
    expect(mail.text).toContain('  a *** b\n');
    expect(mail.raw).not.toContain(secret);
    expect(mail.text).toContain('  command with *** in it\n');
    expect(mail.text + mail.html).not.toMatch(/split-s|ecret-42/);
  });

  it('records an invalid manifest errored with its key and line, emails the commit author, and queues a success email where asked', async () => {
    const bad = await release(
      'badman',
      '1.0',
      'image: kiln/busybox:latest\nstages: [build]\nbuild:\n  script: [true]\n  colour: blue\n',
    );
    const good = await release('cheer', '1.0', helloManifest());
    await using _agent = await startTestAgent({
      db,
      amqpUrl: vhost.url,
      agentId: 'agent-m',
      smtpUrl: smtp.url,
      env: { KILN_NOTIFY_SUCCESS_REPOS: good.repo.bare },
    });
    const before = smtp.messages.length;
    await publishJob(vhost.url, { repo: bad.repo.bare, branch: bad.branch });
    await publishJob(vhost.url, { repo: good.repo.bare, branch: good.branch });
    const rows = await waitUntil(async () => {
      const found = await builds(db.pool, 'branch = ANY($1)', [[bad.branch, good.branch]]);
      return found.length === 2 && found.every((r) => finished(r.status)) && found;
    }, 'both builds');
    const errored = rows.find((r) => r.branch === bad.branch);
    expect(errored).toMatchObject({ status: 'errored', failed_stage: 'manifest', commit: bad.commit });
    expect(errored?.error).toMatch(/\.kiln\.yml: .*colour.*line 5/);
    const notes = await db.pool.query(
      'SELECT b.branch, n.kind, n.recipient FROM notifications n JOIN builds b ON b.id = n.build_id WHERE b.branch = ANY($1) ORDER BY n.kind',
      [[bad.branch, good.branch]],
    );
    expect(notes.rows).toEqual([
      { branch: bad.branch, kind: 'failure', recipient: 'Test Maintainer <maintainer@example.org>' },
      { branch: good.branch, kind: 'success', recipient: 'Test Maintainer <maintainer@example.org>' },
    ]);
    await smtp.waitForMessages(before + 2, 30_000);
  });

  it('stops with a clear error when the broker refuses its queue declaration', async () => {
    await using other = await createTestVhost('kiln-agent-classic');
    const connection = await connectAmqp(other.url);
    const channel = await connection.createChannel();
    await channel.assertQueue('build_queue', { durable: true });
    await connection.close();
    await using agent = await startTestAgent({ db, amqpUrl: other.url, agentId: 'agent-x', smtpUrl: smtp.url });
    await expect(agent.failed).rejects.toThrow(/RabbitMQ refused to declare build_queue: .*PRECONDITION_FAILED/);
  });

  it('kiln status and kiln logs say plainly when a build does not exist or an id is mistyped', async () => {
    const missing = captureIo();
    expect(await runCli(['node', 'kiln', 'status', randomUUID()], missing.io)).toBe(1);
    expect(missing.err()).toMatch(/^kiln: no build .* \(run "kiln status" to list recent builds\)\n$/);
    const typo = captureIo();
    expect(await runCli(['node', 'kiln', 'logs', 'zz-not-an-id'], typo.io)).toBe(2);
    expect(typo.err()).toMatch(/^kiln: "zz-not-an-id" is not a build id/);
    expect(typo.out()).toBe('');
  });

  it('publishes started, stage, log and finished events on the topic exchange', async () => {
    const { repo, branch } = await release('evented', '1.0', helloManifest());
    await using _agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-ev', smtpUrl: smtp.url });
    const id = randomUUID();
    const connection = await connectAmqp(vhost.url);
    try {
      const channel = await connection.createChannel();
      // A follower declares the exchange as the agent does: it may come first.
      await channel.assertExchange('kiln.events', 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, 'kiln.events', `build.${id}.#`);
      const events: Array<{ key: string; body: Record<string, unknown> }> = [];
      await channel.consume(
        queue,
        (msg) => {
          if (msg)
            events.push({
              key: msg.fields.routingKey,
              body: JSON.parse(msg.content.toString()) as Record<string, unknown>,
            });
        },
        { noAck: true },
      );
      await publishJob(vhost.url, { id, repo: repo.bare, branch });
      await waitUntil(async () => events.some((e) => e.key.endsWith('.finished')), 'the finished event');
      const kinds = events.map((e) => e.key.replace(`build.${id}.`, ''));
      expect(kinds[0]).toBe('started');
      expect(kinds.at(-1)).toBe('finished');
      expect(kinds).toContain('stage');
      expect(kinds).toContain('log');
      expect(events.at(-1)?.body).toMatchObject({
        buildId: id,
        status: 'succeeded',
        attempt: 1,
        package: { name: 'evented', version: '1.0' },
      });
      const logText = events
        .filter((e) => e.key.endsWith('.log'))
        .flatMap((e) => (e.body.rows as Array<{ text: string }>).map((r) => r.text))
        .join('');
      expect(logText).toContain('building\n');
    } finally {
      await connection.close();
    }
  });

  it('acknowledges a second delivery of a finished job without building it again', async () => {
    // A vhost of its own, so the broker's ack count is this test's alone.
    await using own = await createTestVhost('kiln-agent-dup');
    const { repo, branch, commit } = await release('twice', '1.0', helloManifest());
    await using agent = await startTestAgent({ db, amqpUrl: own.url, agentId: 'agent-d', smtpUrl: smtp.url });
    const id = randomUUID();
    const job = { id, repo: repo.bare, branch, commit, trigger: 'cli' };
    await publishJob(own.url, job);
    await waitUntil(
      async () => (await builds(db.pool, 'id = $1', [id])).find((r) => finished(r.status)),
      'the first delivery',
    );
    await publishJob(own.url, job);
    // Both deliveries acknowledged, however the second was handled; then what the agent did about it.
    // Each delivery is routed (build_queue, acked there) and then built or found built (the arch's queue).
    expect(await waitForAcked(own, 2, 'both deliveries to be acknowledged')).toMatchObject({ acked: 2 });
    expect(jobCounts(await metricsOf(agent.service.port))).toEqual({ routed: 2, succeeded: 1, duplicate: 1 });
    const [row] = await builds(db.pool, 'id = $1', [id]);
    expect(row).toMatchObject({ status: 'succeeded', attempt: 1 });
    const attempts = await db.pool.query('SELECT DISTINCT attempt FROM build_logs WHERE build_id = $1', [id]);
    expect(attempts.rows).toEqual([{ attempt: 1 }]);
  });

  it('follows a running build with kiln logs --follow, from its first line to its end', async () => {
    const { repo, branch } = await release('slow', '1.0', helloManifest({ sleepSeconds: 3 }));
    await using agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-e', smtpUrl: smtp.url });
    const id = randomUUID();
    await publishJob(vhost.url, { id, repo: repo.bare, branch });
    // Start following only once the build has printed something.
    await waitUntil(
      async () =>
        (await db.pool.query("SELECT 1 FROM build_logs WHERE build_id = $1 AND chunk LIKE '%building%'", [id]))
          .rowCount,
      'the first lines',
    );
    const follow = captureIo();
    const code = await runCli(['node', 'kiln', 'logs', id, '--follow'], follow.io);
    expect(code).toBe(0);
    expect(follow.out()).toMatch(/fetching[\s\S]*building\n[\s\S]*slept\n[\s\S]*installed/);
    expect(follow.err()).toContain('build succeeded');
    void agent;
  });

  it('shares one queue between two agents: both build', async () => {
    await using a = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-one', smtpUrl: smtp.url });
    await using b = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'agent-two', smtpUrl: smtp.url });
    const jobs = await Promise.all(
      ['p1', 'p2', 'p3', 'p4'].map((name) => release(name, '1.0', helloManifest({ sleepSeconds: 1 }))),
    );
    const ids = jobs.map(() => randomUUID());
    for (const [i, job] of jobs.entries())
      await publishJob(vhost.url, { id: ids[i], repo: job.repo.bare, branch: job.branch });
    const rows = await waitUntil(async () => {
      const found = await builds(db.pool, 'id = ANY($1::uuid[])', [ids]);
      return found.length === ids.length && found.every((r) => r.status === 'succeeded') && found;
    }, 'four builds on two agents');
    expect(new Set(rows.map((r) => r.agent))).toEqual(new Set(['agent-one', 'agent-two']));
    void a;
    void b;
  });

  it('on stop, lets a running build finish within the grace period, else requeues it for the next agent', async () => {
    const { repo, branch } = await release('graceful', '1.0', helloManifest({ sleepSeconds: 30 }));
    const first = await startTestAgent({
      db,
      amqpUrl: vhost.url,
      agentId: 'agent-leaving',
      grace: '1s',
      smtpUrl: smtp.url,
    });
    const id = randomUUID();
    await publishJob(vhost.url, { id, repo: repo.bare, branch });
    await waitUntil(
      async () =>
        (await containersOf(id)).length > 0 && (await builds(db.pool, "id = $1 AND status = 'running'", [id])).length,
      'the build to run',
    );
    await first[Symbol.asyncDispose]();
    const [back] = await builds(db.pool, 'id = $1', [id]);
    expect(back).toMatchObject({ status: 'queued', attempt: 1 });
    expect(await containersOf(id)).toEqual([]);
    // Requeued, not acknowledged: back among the ready messages, where the broker counts exactly.
    expect(await readyMessages(vhost.url)).toBe(1);
    // The next agent takes it as attempt 2 (stopped early: this test needs no 30s sleep).
    await using second = await startTestAgent({
      db,
      amqpUrl: vhost.url,
      agentId: 'agent-next',
      grace: '1s',
      smtpUrl: smtp.url,
    });
    await waitUntil(
      async () => (await builds(db.pool, "id = $1 AND status = 'running' AND attempt = 2", [id])).length,
      'attempt 2 to start',
    );
    const [taken] = await builds(db.pool, 'id = $1', [id]);
    expect(taken).toMatchObject({ agent: 'agent-next', attempt: 2 });
    void second;
  });
});
