/**
 * An agent on another host cut off mid-build. Agents run in network
 * namespaces of their own (test hosts: see helpers/netns.ts) and reach
 * RabbitMQ, PostgreSQL and the SMTP sink only through their link; the test
 * cuts one agent's link while it builds, lets its lease run out so another
 * host builds the job, heals the link, and counts: one result, one email, no
 * container left, the late result refused by the attempt guard.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPool, type Pool } from '@kiln/shared';
import { agentEnv, builds, containersOf, publishJob, releaseRepo, waitUntil } from './helpers/agent-fixtures.js';
import { spawnCli, startOwnRabbit, type CliProcess, type OwnRabbit } from './helpers/crawler-fixtures.js';
import { createSmtpSink, type SmtpSink, type TestRepo } from './helpers/index.js';
import { createTestNetwork, type TestNetwork } from './helpers/netns.js';
import { startOwnPostgres, type OwnPostgres } from './helpers/own-postgres.js';

jest.setTimeout(300_000);

const LATE_RESULT = [
  'a newer attempt owns this build: discarding this result',
  'lost the lease: another attempt owns this build now; abandoning this one',
];

describe('an agent partitioned from the farm mid-build', () => {
  let net: TestNetwork;
  let pg: OwnPostgres;
  let rabbit: OwnRabbit;
  let smtp: SmtpSink;
  let pool: Pool;
  let root: string;
  const repos: TestRepo[] = [];
  const children: CliProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-partition-'));
    net = await createTestNetwork();
    pg = await startOwnPostgres({ listen: { address: net.serviceAddress, allow: net.cidr } });
    rabbit = await startOwnRabbit({ management: true, remote: true });
    smtp = await createSmtpSink({ host: net.serviceAddress });
    pool = createPool(pg.url, { max: 2 });
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await pool?.end();
    await smtp?.[Symbol.asyncDispose]();
    await rabbit?.[Symbol.asyncDispose]();
    await pg?.[Symbol.asyncDispose]();
    await net?.close();
    for (const repo of repos) await repo[Symbol.asyncDispose]();
    await rm(root, { recursive: true, force: true });
  });

  it('loses its lease, another host builds the job, and its late result is refused: one result, one email', async () => {
    const manifest = [
      'image: kiln/busybox:latest',
      'package:',
      '  maintainer: Far Away <far@example.org>',
      'stages: [build]',
      'build:',
      '  script:',
      '    - echo building',
      '    - sleep 12',
      '    - exit 3',
      '',
    ].join('\n');
    const { repo, branch } = await releaseRepo('faraway', '1.0', manifest, root);
    repos.push(repo);
    // Through the link, with heartbeats short enough that the broker notices a dead link in seconds.
    const amqpUrl = `${rabbit.url.replace('127.0.0.1', net.serviceAddress)}?heartbeat=2`;
    const agentOn = async (name: string) => {
      const host = await net.addHost(name);
      const dirs = await mkdtemp(path.join(root, `${name}-`));
      const env = agentEnv({
        db: { url: pg.remoteUrl },
        amqpUrl,
        smtpUrl: smtp.url,
        agentId: name,
        lease: '4s',
        dirs,
      });
      const agent = spawnCli(['agent'], env, host);
      children.push(agent);
      await agent.waitForLog((l) => l.msg === 'agent started', `${name} to start`, 90_000);
      return { host, agent };
    };

    const first = await agentOn('agent-a');
    const id = randomUUID();
    await publishJob(rabbit.url, { id, repo: repo.bare, branch, trigger: 'cli' });
    await waitUntil(async () => (await containersOf(id)).length > 0, 'agent-a to be inside its stage', 90_000);
    expect(await builds(pool, 'id = $1', [id])).toMatchObject([{ status: 'running', attempt: 1, agent: 'agent-a' }]);
    // agent-a talks to PostgreSQL from its own host's address, not from this machine's loopback.
    const { rows: clients } = await pool.query<{ addr: string }>(
      'SELECT DISTINCT host(client_addr) AS addr FROM pg_stat_activity WHERE client_addr IS NOT NULL',
    );
    expect(clients.map((c) => c.addr)).toContain(first.host.address);

    await first.host.partition();
    await agentOn('agent-b');
    const [done] = await waitUntil(
      async () => {
        const rows = await builds(pool, 'id = $1', [id]);
        return rows[0]?.status === 'failed' && rows;
      },
      'agent-b to build the job',
      150_000,
    );
    expect(done).toMatchObject({ attempt: 2, agent: 'agent-b', exit_code: 3 });
    expect(first.agent.child.exitCode).toBeNull();

    await first.host.heal();
    const refused = await first.agent.waitForLog(
      (l) => LATE_RESULT.includes(l.msg) && l.buildId === id,
      "agent-a's late result to be refused",
      120_000,
    );
    expect(refused.buildId).toBe(id);
    await waitUntil(async () => (await containersOf(id)).length === 0, 'every container of the build to be removed');

    // One result: the row is attempt 2's, untouched by attempt 1's late write.
    expect(await builds(pool, 'id = $1', [id])).toMatchObject([{ status: 'failed', attempt: 2, agent: 'agent-b' }]);
    expect(await builds(pool, 'branch = $1', [branch])).toHaveLength(1);
    // One email, sent once.
    await waitUntil(async () => {
      const { rows } = await pool.query("SELECT 1 FROM notifications WHERE status = 'pending'");
      return rows.length === 0;
    }, 'no email left to send');
    const { rows: mails } = await pool.query('SELECT status FROM notifications WHERE build_id = $1', [id]);
    expect(mails).toEqual([{ status: 'sent' }]);
    expect(smtp.messages.map((m) => [m.envelopeTo, m.subject])).toEqual([
      [['far@example.org'], '[kiln] faraway-1.0 failed in build: exit 3 exited 3'],
    ]);
    // agent-a is connected again after the heal, ready for more work.
    await first.agent.waitForLog((l) => l.msg === 'connected to RabbitMQ again', 'agent-a to reconnect', 60_000);
  });
});
