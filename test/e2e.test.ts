/**
 * What README tells a user to do, end to end, with the real pieces: the
 * crawler and an agent as processes of their own, a bare repository the
 * crawler watches, the examples pushed as release branches, PostgreSQL,
 * RabbitMQ, Docker and an SMTP server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  createSmtpSink,
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  freePort,
  type SmtpSink,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { kilnCommand } from './helpers/cli.js';

import { jest } from '@jest/globals';

jest.setTimeout(600_000);

interface BuildRow {
  id: string;
  status: string;
  error: string | null;
  failed_stage: string | null;
  failed_command: string | null;
  exit_code: number | null;
}

describe('a release engineer pushes release branches', () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let smtp: SmtpSink;
  let root: string;
  let libgreet: TestRepo;
  let broken: TestRepo;
  const processes: ChildProcess[] = [];
  const output: string[] = [];

  function start(command: string, env: Record<string, string>): ChildProcess {
    const child = spawn(...kilnCommand(command), {
      env: { ...process.env, ...env, KILN_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr])
      stream?.on('data', (d: Buffer) => output.push(`[${command}] ${d.toString()}`));
    processes.push(child);
    return child;
  }

  async function waitForBuild(name: string, version: string): Promise<BuildRow> {
    const deadline = Date.now() + 540_000;
    while (Date.now() < deadline) {
      const { rows } = await db.pool.query<BuildRow>(
        `SELECT id, status, error, failed_stage, failed_command, exit_code FROM builds
          WHERE package_name = $1 AND package_version = $2 ORDER BY queued_at DESC LIMIT 1`,
        [name, version],
      );
      const row = rows[0];
      if (row && ['succeeded', 'failed', 'errored', 'cancelled'].includes(row.status)) return row;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${name}-${version} was not built in time; output:\n${output.join('').slice(-5000)}`);
  }

  beforeAll(async () => {
    db = await createTestDatabase('kiln_e2e');
    vhost = await createTestVhost('kiln-e2e');
    smtp = await createSmtpSink();
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-e2e-root-'));
    libgreet = await createTestRepo({ root, name: 'libgreet' });
    broken = await createTestRepo({ root, name: 'broken' });
    const work = await mkdtemp(path.join(os.tmpdir(), 'kiln-e2e-state-'));
    const env = {
      KILN_DATABASE_URL: db.url,
      KILN_AMQP_URL: vhost.url,
      KILN_SMTP_URL: smtp.url,
      KILN_MAIL_FROM: 'Kiln <kiln@e2e.test>',
      KILN_REPO_ROOT: root,
      KILN_POLL_INTERVAL: '1',
      KILN_WEBHOOK_PORT: String(await freePort()),
      KILN_METRICS_PORT: String(await freePort()),
      KILN_CONCURRENCY: '2',
      KILN_WORK_DIR: path.join(work, 'work'),
      KILN_CACHE_DIR: path.join(work, 'cache'),
      KILN_ARTIFACT_DIR: path.join(work, 'artifacts'),
    };
    start('crawler', env);
    start('agent', env);
  });

  afterAll(async () => {
    for (const child of processes) child.kill('SIGTERM');
    await Promise.all(processes.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await libgreet?.[Symbol.asyncDispose]();
    await broken?.[Symbol.asyncDispose]();
    await rm(root, { recursive: true, force: true });
    await smtp?.[Symbol.asyncDispose]();
    await vhost?.[Symbol.asyncDispose]();
    await db?.[Symbol.asyncDispose]();
  });

  test('libgreet-1.2.0 is built and its files land in the package database; broken-0.1.0 emails its maintainer', async () => {
    await cp('examples/libgreet', libgreet.work, { recursive: true });
    await cp('examples/broken', broken.work, { recursive: true });
    const greetCommit = await libgreet.pushBranch('libgreet-1.2.0', {});
    const brokenCommit = await broken.pushBranch('broken-0.1.0', {});

    const good = await waitForBuild('libgreet', '1.2.0');
    expect(good).toMatchObject({ status: 'succeeded', error: null });
    const { rows: builds } = await db.pool.query('SELECT commit, trigger, attempt FROM builds WHERE id = $1', [
      good.id,
    ]);
    expect(builds[0]).toMatchObject({ commit: greetCommit, attempt: 1 });

    const { rows: pkg } = await db.pool.query(
      'SELECT build_id, installed_size, file_count FROM packages WHERE name = $1 AND version = $2',
      ['libgreet', '1.2.0'],
    );
    expect(pkg).toEqual([{ build_id: good.id, installed_size: expect.anything(), file_count: 5 }]);
    const { rows: files } = await db.pool.query(
      'SELECT path, kind, linkage, needed, target, sha256 FROM package_files WHERE build_id = $1 ORDER BY path',
      [good.id],
    );
    expect(files.map((f: { path: string }) => f.path)).toEqual([
      '/usr/include/greet.h',
      '/usr/lib/libgreet.a',
      '/usr/lib/libgreet.so',
      '/usr/lib/libgreet.so.1',
      '/usr/lib/libgreet.so.1.2.0',
    ]);
    const byPath = Object.fromEntries(files.map((f: { path: string }) => [f.path, f]));
    expect(byPath['/usr/lib/libgreet.so.1.2.0']).toMatchObject({
      kind: 'shared-library',
      linkage: 'dynamic',
      needed: ['libc.so.6'],
    });
    expect(byPath['/usr/lib/libgreet.a']).toMatchObject({ kind: 'static-library' });
    expect(byPath['/usr/include/greet.h']).toMatchObject({
      kind: 'other',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(byPath['/usr/lib/libgreet.so.1']).toMatchObject({ kind: 'symlink', target: 'libgreet.so.1.2.0' });

    const bad = await waitForBuild('broken', '0.1.0');
    expect(bad).toMatchObject({ status: 'failed', failed_stage: 'build', failed_command: 'make', exit_code: 2 });
    const [mail] = await smtp.waitForMessages(1, 60_000);
    expect(mail?.envelopeTo).toEqual(['broken@example.org']);
    expect(mail?.subject).toBe('[kiln] broken-0.1.0 failed in build: make exited 2');
    expect(mail?.text).toContain(brokenCommit);
    expect(mail?.text).toContain('undefined reference to `missing_function');
    expect(mail?.text).toContain(`kiln logs ${bad.id}`);
    const { rows: notes } = await db.pool.query(
      'SELECT recipient, status, sent_at FROM notifications WHERE build_id = $1',
      [bad.id],
    );
    expect(notes).toEqual([
      { recipient: expect.stringContaining('broken@example.org'), status: 'sent', sent_at: expect.any(Date) },
    ]);
    // The good build sent nothing.
    expect(smtp.messages).toHaveLength(1);
  });
});
