import { randomUUID } from 'node:crypto';
import { getBuild, listBuilds } from '@kiln/agent';
import { runCli } from '../src/cli/main.js';
import { createTestDatabase, type TestDatabase } from './helpers/index.js';

// A running build whose agent stopped renewing its lease is shown as stalled,
// so an operator can tell a long build from a dead one.
describe('kiln status and stalled builds', () => {
  let db: TestDatabase;
  const alive = randomUUID();
  const stalled = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase('kiln_status');
    // Heartbeat and lease on the database's clock, the one the read side compares them with.
    const insert = `INSERT INTO builds (id, repo, branch, package_name, package_version, status, attempt, agent, started_at, heartbeat_at, lease_expires_at)
      VALUES ($1, '/srv/git/x.git', $2, 'x', $3, 'running', 1, 'agent-a', now() - interval '5 minutes',
              now() + $4 * interval '1 second', now() + $5 * interval '1 second')`;
    await db.pool.query(insert, [alive, 'x-1.0', '1.0', 0, 30]);
    await db.pool.query(insert, [stalled, 'x-2.0', '2.0', -120, -60]);
  });
  afterAll(async () => {
    await db[Symbol.asyncDispose]();
  });

  test('the read side says which running builds are stalled', async () => {
    const builds = await listBuilds(db.pool);
    expect(Object.fromEntries(builds.map((b) => [b.id, b.stalled]))).toEqual({ [alive]: false, [stalled]: true });
    expect((await getBuild(db.pool, stalled))?.stalled).toBe(true);
  });

  test('the table and the detail view show it', async () => {
    let out = '';
    const io = { out: (t: string) => (out += t), err: () => {}, isTty: false, env: { KILN_DATABASE_URL: db.url } };
    expect(await runCli(['node', 'kiln', 'status'], io)).toBe(0);
    expect(out).toMatch(new RegExp(`${stalled.slice(0, 8)}\\s+x\\s+2\\.0\\s+-\\s+running \\(stalled\\)`));
    expect(out).toMatch(new RegExp(`${alive.slice(0, 8)}\\s+x\\s+1\\.0\\s+-\\s+running\\s+1`));
    out = '';
    expect(await runCli(['node', 'kiln', 'status', stalled], io)).toBe(0);
    expect(out).toContain('stalled, its agent stopped renewing the lease');
  });
});
