import { jest } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../src/cli/main.js';
import {
  helloManifest,
  publishJob,
  readyMessages,
  releaseRepo,
  startTestAgent,
  waitUntil,
} from './helpers/agent-fixtures.js';
import {
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';

jest.setTimeout(300_000);

let db: TestDatabase;
let vhost: TestVhost;
let root: string;
const repos: TestRepo[] = [];

beforeAll(async () => {
  db = await createTestDatabase('kiln_arch');
  vhost = await createTestVhost('kiln-arch');
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-arch-repos-'));
});
afterAll(async () => {
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await vhost[Symbol.asyncDispose]();
  await db[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

interface ArchRow {
  id: string;
  arch: string | null;
  status: string;
  agent: string | null;
}

async function buildsOf(name: string): Promise<ArchRow[]> {
  const { rows } = await db.pool.query<ArchRow>(
    'SELECT id::text AS id, arch, status, agent FROM builds WHERE package_name = $1 ORDER BY arch',
    [name],
  );
  return rows;
}

async function kiln(...args: string[]): Promise<string> {
  let out = '';
  const io = {
    out: (t: string) => void (out += t),
    err: (t: string) => void (out += t),
    isTty: false,
    env: { KILN_DATABASE_URL: db.url, KILN_AMQP_URL: vhost.url },
  };
  expect(await runCli(['node', 'kiln', ...args], io)).toBe(0);
  return out;
}

describe('builds per arch', () => {
  test('a job without arch fans out per the manifest; an amd64 agent never takes the arm64 build, which waits and says why until an arm64-capable agent starts', async () => {
    // debian:bookworm: the engine runs the arm64 build in its arm64 variant (debian:bookworm-arm64, scripts/setup.sh).
    const manifest = helloManifest().replace('kiln/busybox:latest', 'debian:bookworm');
    const made = await releaseRepo('multi', '1.0.0', `${manifest}arch: [amd64, arm64]\n`, root);
    repos.push(made.repo);
    await using amd64 = await startTestAgent({
      db,
      amqpUrl: vhost.url,
      agentId: 'agent-amd64',
      env: { KILN_ARCHS: 'amd64' },
    });
    // Dropped by hand, without arch and without id: two builds, one per listed arch.
    await publishJob(vhost.url, { repo: made.repo.bare, branch: made.branch });
    const first = await waitUntil(
      async () => {
        const rows = await buildsOf('multi');
        return rows.length === 2 && rows[0]?.status === 'succeeded' && rows;
      },
      'the amd64 build to succeed',
      120_000,
    );
    expect(first.map((r) => r.arch)).toEqual(['amd64', 'arm64']);
    expect(first[0]).toMatchObject({ agent: 'agent-amd64' });
    const arm = first[1]!;
    expect(arm).toMatchObject({ status: 'queued', agent: null });

    // The arm64 job waits on its own queue: never taken, never dead-lettered.
    expect(await readyMessages(vhost.url, 'build_queue.arm64')).toBe(1);
    expect(await readyMessages(vhost.url, 'build_queue.dead')).toBe(0);
    const one = await kiln('status', arm.id);
    expect(one).toMatch(/arch\s+arm64/);
    expect(one).toMatch(/waiting\s+no agent serves arm64 \(nothing consumes build_queue\.arm64/);
    const list = await kiln('status');
    expect(list).toMatch(
      new RegExp(`${arm.id.slice(0, 8)}\\s+multi\\s+1\\.0\\.0\\s+arm64\\s+queued \\(no agent serves arm64\\)`),
    );
    expect(list).toMatch(new RegExp(`${first[0]!.id.slice(0, 8)}\\s+multi\\s+1\\.0\\.0\\s+amd64\\s+succeeded`));
    expect((await buildsOf('multi'))[1]).toMatchObject({ status: 'queued', agent: null });

    // An agent that serves arm64 takes it.
    await using both = await startTestAgent({
      db,
      amqpUrl: vhost.url,
      agentId: 'agent-arm',
      env: { KILN_ARCHS: 'amd64,arm64' },
    });
    const done = await waitUntil(
      async () => {
        const rows = await buildsOf('multi');
        return ['succeeded', 'failed', 'errored'].includes(rows[1]?.status ?? '') && rows;
      },
      'the arm64 build to finish',
      240_000,
    );
    expect(done[1]).toMatchObject({ id: arm.id, arch: 'arm64', agent: 'agent-arm', status: 'succeeded' });
    expect(done[0]).toMatchObject(first[0]!);
    const packages = await db.pool.query(
      'SELECT name, version, arch, build_id::text AS build FROM packages ORDER BY arch',
    );
    expect(packages.rows).toEqual([
      { name: 'multi', version: '1.0.0', arch: 'amd64', build: first[0]!.id },
      { name: 'multi', version: '1.0.0', arch: 'arm64', build: arm.id },
    ]);
    expect(await kiln('status', arm.id)).not.toContain('waiting');
    void amd64;
    void both;
  });
});

/** examples/libgreet, built without its test stage and prepare (each emulated compile costs seconds). */
const LIBGREET = `image: kiln/bookworm-build:latest
package: {name: libgreet, version: 1.2.0}
arch: [amd64, arm64]
stages: [build]
build: {script: ["make -j2"]}
install: {script: ['make install PREFIX=/usr DESTDIR="$DESTDIR"']}
`;

test('one push of libgreet listing amd64 and arm64 gives two succeeded builds, each .so recorded for its machine', async () => {
  const repo = await createTestRepo({ root, name: 'libgreet' });
  repos.push(repo);
  const files: Record<string, string> = { '.kiln.yml': LIBGREET };
  for (const file of ['Makefile', 'src/greet.h', 'src/greet.c', 'src/greet-test.c']) {
    files[file] = await readFile(path.join('examples/libgreet', file), 'utf8');
  }
  await repo.pushBranch('libgreet-1.2.0', files);
  await using agent = await startTestAgent({
    db,
    amqpUrl: vhost.url,
    agentId: 'agent-both',
    concurrency: 2,
    env: { KILN_ARCHS: 'amd64,arm64' },
  });
  await publishJob(vhost.url, { repo: repo.bare, branch: 'libgreet-1.2.0' });
  const builds = await waitUntil(
    async () => {
      const rows = await buildsOf('libgreet');
      return rows.length === 2 && rows.every((r) => !['queued', 'running'].includes(r.status)) && rows;
    },
    'both libgreet builds to finish',
    280_000,
  );
  expect(builds.map((b) => [b.arch, b.status])).toEqual([
    ['amd64', 'succeeded'],
    ['arm64', 'succeeded'],
  ]);
  const { rows } = await db.pool.query<{ arch: string; machine: string; linkage: string; needed: string[] }>(
    `SELECT b.arch, f.machine, f.linkage, f.needed FROM package_files f JOIN builds b ON b.id = f.build_id
      WHERE b.package_name = 'libgreet' AND f.path = '/usr/lib/libgreet.so.1.2.0' ORDER BY b.arch`,
  );
  expect(rows).toEqual([
    { arch: 'amd64', machine: 'x86-64', linkage: 'dynamic', needed: ['libc.so.6'] },
    { arch: 'arm64', machine: 'aarch64', linkage: 'dynamic', needed: ['libc.so.6'] },
  ]);
  void agent;
}, 300_000);
