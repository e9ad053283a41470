import { randomUUID } from 'node:crypto';
import type { BuildReport } from '@kiln/shared';
import { BuildStore, noFailureNotifications, type AttemptRef, type FailureNotifications } from '@kiln/agent';
import { createTestDatabase, type TestDatabase } from './helpers/index.js';

/** The agent's writes to the package database, against a real PostgreSQL. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('kiln_agent_store');
});
afterAll(async () => {
  await db[Symbol.asyncDispose]();
});

const succeeded = (files: Array<{ path: string; size: number }> = []): BuildReport => ({
  status: 'succeeded',
  package: { name: 'zlib', version: '1.3.1' },
  durationMs: 1234,
  stages: [
    {
      name: 'build',
      status: 'succeeded',
      image: 'kiln/busybox',
      exitCode: 0,
      durationMs: 1000,
      commands: [{ command: 'make', exitCode: 0, durationMs: 900 }],
    },
  ],
  install: {
    sizeBytes: files.reduce((sum, f) => sum + f.size, 0),
    files: files.map((f) => ({
      ...f,
      mode: '0755',
      kind: 'executable' as const,
      linkage: 'dynamic' as const,
      needed: ['libc.so.6'],
      sha256: 'a'.repeat(64),
    })),
  },
  error: null,
});

async function newBuild(store: BuildStore, queuedAt?: string): Promise<string> {
  const id = randomUUID();
  await store.ensureQueued({
    id,
    repo: 'https://bob:token@git.example.org/zlib.git',
    branch: 'zlib-1.3.1',
    trigger: 'webhook',
    requestedAt: queuedAt,
  });
  return id;
}

describe('BuildStore', () => {
  it('records a queued build once, without the credentials of its URL', async () => {
    const store = new BuildStore(db.pool, noFailureNotifications);
    const id = await newBuild(store);
    await store.ensureQueued({ id, repo: '/other' });
    const row = (await db.pool.query('SELECT repo, status, attempt, trigger FROM builds WHERE id = $1', [id])).rows[0];
    expect(row).toEqual({
      repo: 'https://***@git.example.org/zlib.git',
      status: 'queued',
      attempt: 0,
      trigger: 'webhook',
    });
  });

  it('lets one claim win; a live lease keeps others out; an expired one lets the next attempt in', async () => {
    const store = new BuildStore(db.pool, noFailureNotifications);
    const id = await newBuild(store);
    const [a, b] = await Promise.all([store.claim(id, 'agent-a', 60_000), store.claim(id, 'agent-b', 60_000)]);
    const kinds = [a.kind, b.kind].sort();
    expect(kinds).toEqual(['busy', 'claimed']);
    await db.pool.query("UPDATE builds SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id]);
    const again = await store.claim(id, 'agent-c', 60_000);
    expect(again).toMatchObject({ kind: 'claimed', attempt: 2 });
  });

  it('refuses every write of an attempt a newer attempt replaced', async () => {
    const store = new BuildStore(db.pool, noFailureNotifications);
    const id = await newBuild(store);
    const first = await store.claim(id, 'agent-a', 60_000);
    if (first.kind !== 'claimed') throw new Error('not claimed');
    await db.pool.query("UPDATE builds SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id]);
    const second = await store.claim(id, 'agent-b', 60_000);
    if (second.kind !== 'claimed') throw new Error('not claimed');
    const stale: AttemptRef = { buildId: id, attempt: first.attempt, agent: 'agent-a' };
    expect(await store.heartbeat(stale, 60_000)).toBe(false);
    expect(
      await store.finish(stale, {
        report: succeeded(),
        manifest: null,
        commit: null,
        package: { name: 'zlib', version: '1.3.1' },
      }),
    ).toBe(false);
    const fresh: AttemptRef = { buildId: id, attempt: second.attempt, agent: 'agent-b' };
    expect(
      await store.finish(fresh, {
        report: succeeded(),
        manifest: null,
        commit: 'c'.repeat(40),
        package: { name: 'zlib', version: '1.3.1' },
      }),
    ).toBe(true);
    const row = (await db.pool.query('SELECT status, attempt, agent FROM builds WHERE id = $1', [id])).rows[0];
    expect(row).toEqual({ status: 'succeeded', attempt: 2, agent: 'agent-b' });
    expect(await store.claim(id, 'agent-c', 60_000)).toEqual({ kind: 'finished', status: 'succeeded' });
  });

  it('writes stages, commands, package and files in one transaction; a hotfix build takes the package over', async () => {
    const store = new BuildStore(db.pool, noFailureNotifications);
    const ids: string[] = [];
    for (const [i, files] of [
      [{ path: '/usr/bin/a', size: 10 }],
      [
        { path: '/usr/bin/a', size: 12 },
        { path: '/usr/bin/b', size: 3 },
      ],
    ].entries()) {
      const id = await newBuild(store, new Date(Date.now() + i).toISOString());
      const claim = await store.claim(id, 'agent-a', 60_000);
      if (claim.kind !== 'claimed') throw new Error('not claimed');
      await store.finish(
        { buildId: id, attempt: claim.attempt, agent: 'agent-a' },
        {
          report: succeeded(files),
          manifest: null,
          commit: null,
          package: { name: 'zlib', version: '1.3.1' },
        },
      );
      ids.push(id);
    }
    const pkg = (
      await db.pool.query(
        "SELECT build_id::text AS build_id, file_count, installed_size::int AS size FROM packages WHERE name = 'zlib'",
      )
    ).rows;
    expect(pkg).toEqual([{ build_id: ids[1], file_count: 2, size: 15 }]);
    const files = await db.pool.query('SELECT build_id::text AS b, path, needed FROM package_files ORDER BY b, path');
    expect(files.rows.filter((r) => r.b === ids[0])).toHaveLength(1);
    expect(files.rows.find((r) => r.b === ids[1] && r.path === '/usr/bin/b')?.needed).toEqual(['libc.so.6']);
    const commands = await db.pool.query('SELECT command, exit_code FROM build_commands WHERE build_id = $1', [ids[1]]);
    expect(commands.rows).toEqual([{ command: 'make', exit_code: 0 }]);
  });

  it('does not let an older build that finishes late take the package from a newer one', async () => {
    const store = new BuildStore(db.pool, noFailureNotifications);
    const older = await newBuild(store, '2026-01-01T00:00:00Z');
    const newer = await newBuild(store, '2026-01-02T00:00:00Z');
    for (const id of [newer, older]) {
      const claim = await store.claim(id, 'agent-a', 60_000);
      if (claim.kind !== 'claimed') throw new Error('not claimed');
      await store.finish(
        { buildId: id, attempt: claim.attempt, agent: 'agent-a' },
        {
          report: succeeded([{ path: '/x', size: 1 }]),
          manifest: null,
          commit: null,
          package: { name: 'late', version: '1.0' },
        },
      );
    }
    const row = (await db.pool.query("SELECT build_id::text AS id FROM packages WHERE name = 'late'")).rows[0];
    expect(row?.id).toBe(newer);
  });

  it('queues the failure email inside the result transaction, and rolls both back together', async () => {
    const seen: string[] = [];
    const failing: FailureNotifications = {
      async queue(q, failure) {
        seen.push(failure.buildId);
        await q.query("INSERT INTO notifications (build_id, recipient) VALUES ($1, 'x@example.org')", [
          failure.buildId,
        ]);
        throw new Error('mail queue broken');
      },
    };
    const store = new BuildStore(db.pool, failing);
    const id = await newBuild(store);
    const claim = await store.claim(id, 'agent-a', 60_000);
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    const report: BuildReport = {
      ...succeeded(),
      status: 'failed',
      install: null,
      error: 'build: make exited 2',
      failure: { stage: 'build', command: 'make', exitCode: 2, reason: 'exited 2' },
    };
    await expect(
      store.finish(
        { buildId: id, attempt: claim.attempt, agent: 'agent-a' },
        { report, manifest: null, commit: null, package: null },
      ),
    ).rejects.toThrow('mail queue broken');
    expect(seen).toEqual([id]);
    const row = (await db.pool.query('SELECT status FROM builds WHERE id = $1', [id])).rows[0];
    expect(row?.status).toBe('running');
    expect((await db.pool.query('SELECT 1 FROM notifications WHERE build_id = $1', [id])).rowCount).toBe(0);
  });
});

describe('builds whose every delivery died with its agent', () => {
  it('are recorded errored (and the maintainer told) only once no delivery can be left', async () => {
    const queued: Array<{ buildId: string; maintainer?: string }> = [];
    const notifications: FailureNotifications = {
      async queue(_db, failure) {
        queued.push(failure);
      },
    };
    const store = new BuildStore(db.pool, notifications);
    const limit = 2;
    // Running with a lease that ran out long ago, at each number of attempts; and one still within its grace.
    const setRunning = (id: string, attempt: number, expiredSecondsAgo: number) =>
      db.pool.query(
        `UPDATE builds SET status = 'running', attempt = $2, agent = 'dead-agent', started_at = now() - interval '10 minutes',
           lease_expires_at = now() - $3 * interval '1 second', manifest = '{"package": {"maintainer": "m@example.org"}}'
         WHERE id = $1`,
        [id, attempt, expiredSecondsAgo],
      );
    const exhausted = await newBuild(store);
    await setRunning(exhausted, limit + 1, 600);
    const mayReturn = await newBuild(store);
    await setRunning(mayReturn, limit, 600);
    const withinGrace = await newBuild(store);
    await setRunning(withinGrace, limit + 1, 5);

    expect(await store.abandonExhausted(limit, 60_000)).toEqual([exhausted]);
    expect(await store.abandonExhausted(limit, 60_000)).toEqual([]);
    const rows = await db.pool.query<{ id: string; status: string; error: string | null; failed_stage: string | null }>(
      'SELECT id::text AS id, status, error, failed_stage FROM builds WHERE id = ANY($1::uuid[])',
      [[exhausted, mayReturn, withinGrace]],
    );
    const byId = Object.fromEntries(rows.rows.map((r) => [r.id, r]));
    expect(byId[exhausted]).toMatchObject({ status: 'errored', failed_stage: 'agent' });
    expect(byId[exhausted]?.error).toMatch(
      /^gave up: attempt 3 died with its agent \(lease expired at .*\), and RabbitMQ does not deliver a job more than 3 times$/,
    );
    expect(byId[mayReturn]?.status).toBe('running');
    expect(byId[withinGrace]?.status).toBe('running');
    expect(queued).toEqual([{ buildId: exhausted, maintainer: 'm@example.org' }]);
  });
});
