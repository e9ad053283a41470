/**
 * The operator's limits as `kiln agent` reads them from KILN_* variables, down
 * to the build containers: the agent as a process of its own (the shipped
 * command), a build that reports the limits it runs under, and builds that
 * run into the time limits.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { agentEnv, builds, publishJob, releaseRepo, waitUntil } from './helpers/agent-fixtures.js';
import { spawnCli, type CliProcess } from './helpers/crawler-fixtures.js';
import {
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';

jest.setTimeout(180_000);

let db: TestDatabase;
let vhost: TestVhost;
let root: string;
let agent: CliProcess;
const repos: TestRepo[] = [];

// None of these is a default (or the tests' usual setting), so each value seen proves its variable was read.
const SETTINGS = {
  KILN_CPU_LIMIT: '0.5',
  KILN_MEMORY_LIMIT: '200m',
  KILN_PIDS_LIMIT: '77',
  KILN_NETWORK: 'none',
  KILN_STAGE_TIMEOUT: '4s',
  KILN_IDLE_TIMEOUT: '2s',
  KILN_LOG_LIMIT: '16k',
};

beforeAll(async () => {
  db = await createTestDatabase('kiln_agent_limits');
  vhost = await createTestVhost('kiln-agent-limits');
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-limits-'));
  const env = agentEnv({ db, amqpUrl: vhost.url, agentId: 'agent-limits', concurrency: 2, dirs: root, env: SETTINGS });
  agent = spawnCli(['agent'], env);
  await agent.waitForLog((l) => l.msg === 'agent started', 'the agent to start', 60_000);
});

afterAll(async () => {
  if (agent.child.exitCode === null) {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await vhost[Symbol.asyncDispose]();
  await db[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

async function build(name: string, script: string[]) {
  const { repo, branch } = await releaseRepo(
    name,
    '1.0',
    ['image: kiln/busybox:latest', 'stages: [run]', 'run:', '  script:', ...script.map((l) => `    - ${l}`), ''].join(
      '\n',
    ),
    root,
  );
  repos.push(repo);
  const id = randomUUID();
  await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
  return id;
}

function finished(id: string) {
  return waitUntil(async () => {
    const [row] = await builds(db.pool, 'id = $1', [id]);
    return row && !['queued', 'running'].includes(row.status) && row;
  }, `build ${id} to finish`);
}

async function logOf(id: string): Promise<string> {
  const { rows } = await db.pool.query<{ text: string }>(
    "SELECT string_agg(chunk, '' ORDER BY seq) AS text FROM build_logs WHERE build_id = $1",
    [id],
  );
  return rows[0]?.text ?? '';
}

test('KILN_CPU_LIMIT, KILN_MEMORY_LIMIT, KILN_PIDS_LIMIT, KILN_NETWORK and KILN_LOG_LIMIT reach the build container', async () => {
  const id = await build('limits', [
    // About 24 KiB first, for the 16 KiB log limit to drop; the limits after it, to be kept.
    'seq 1 5000',
    `echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)" | tr '\\n' ' ' && echo`,
    'echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
    'echo "pids=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"',
    'echo "interfaces:" $(ls /sys/class/net)',
  ]);
  expect(await finished(id)).toMatchObject({ status: 'succeeded' });
  const log = await logOf(id);
  expect(log).toMatch(/^cpu=50000 100000 ?$/m);
  expect(log).toContain(`memory=${200 * 1024 ** 2}\n`);
  expect(log).toContain('pids=77\n');
  expect(log).toContain('interfaces: lo\n');
  // The oldest output went, a note says so, and what is kept of the build's output fits the limit.
  expect(log).toMatch(/^\[kiln\] the log exceeded the limit: \d+ bytes of older output dropped/);
  expect(log).not.toMatch(/^1\n2\n3\n/m);
  expect(log).toContain('\n5000\n');
  const output = log.replace(/^\[kiln\] .*\n/gm, ''); // the build's own output, without the agent's notes
  expect(Buffer.byteLength(output)).toBeLessThanOrEqual(16 * 1024);
  expect(Buffer.byteLength(output)).toBeGreaterThan(15 * 1024);
});

test('KILN_IDLE_TIMEOUT and KILN_STAGE_TIMEOUT end the stages that run into them', async () => {
  const idle = await build('idle', ['echo going quiet', 'sleep 60']);
  const chatty = await build('chatty', ['while true; do echo tick; sleep 0.5; done']);
  expect(await finished(idle)).toMatchObject({
    status: 'failed',
    failed_command: 'sleep 60',
    error: 'stage "run" failed at line 2 (sleep 60): no output for 2s',
  });
  expect(await finished(chatty)).toMatchObject({
    status: 'failed',
    error: expect.stringMatching(/timed out after 4s$/),
  });
});
