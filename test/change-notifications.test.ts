import { randomUUID } from 'node:crypto';
import { BuildStore, noFailureNotifications } from '@kiln/agent';
import { CHANGES_CHANNEL, ChangeListener, createLogger } from '@kiln/shared';
import { createTestDatabase, waitFor, type TestDatabase } from './helpers/index.js';

/**
 * Migrations 017 and 019: what the agent writes notifies `kiln_changes`
 * after each commit, naming the table and the builds whose rows changed,
 * except a running build's lease renewals, which change nothing a kept
 * answer shows.
 */
let db: TestDatabase;
let listener: ChangeListener;
const heard: string[] = [];
let listening = false;

beforeAll(async () => {
  db = await createTestDatabase('kiln_changes');
  listener = new ChangeListener({
    url: db.url,
    logger: createLogger({ level: 'silent', pretty: false }),
    onChange: ({ table, builds }) => heard.push(builds ? `${table} ${builds.join(',')}` : table),
    onState: (up) => (listening = up),
  });
  listener.start();
  await waitFor(() => listening, 'the change listener');
});
afterAll(async () => {
  await listener.close();
  await db[Symbol.asyncDispose]();
});

/** What `write` notified, each once, known once a marker notification sent after it arrives. */
async function notifiedBy(write: () => Promise<unknown>): Promise<string[]> {
  heard.length = 0;
  await write();
  await db.pool.query(`SELECT pg_notify($1, 'marker')`, [CHANGES_CHANNEL]);
  await waitFor(() => heard.includes('marker'), 'the marker notification');
  return [...new Set(heard.filter((t) => t !== 'marker'))];
}

async function queued(store: BuildStore): Promise<string> {
  const id = randomUUID();
  await store.ensureQueued({ id, repo: '/srv/git/zlib.git', branch: 'zlib-1.3.1' });
  return id;
}

test('a lease renewal notifies nobody; queueing, claiming and cancelling a build name it', async () => {
  const store = new BuildStore(db.pool, noFailureNotifications);
  let id = '';
  expect(await notifiedBy(async () => (id = await queued(store)))).toEqual([`builds ${id}`]);
  let claim: Awaited<ReturnType<BuildStore['claim']>> | undefined;
  expect(await notifiedBy(async () => (claim = await store.claim(id, 'agent-a', 60_000)))).toEqual([`builds ${id}`]);
  expect(claim?.kind).toBe('claimed');
  const ref = { buildId: id, attempt: claim?.kind === 'claimed' ? claim.attempt : 0, agent: 'agent-a' };

  const renewed = await notifiedBy(async () => expect(await store.heartbeat(ref, 60_000)).toBe(true));
  expect(renewed).toEqual([]);
  const cancel = () => db.pool.query('UPDATE builds SET cancel_requested_at = now() WHERE id = $1', [id]);
  expect(await notifiedBy(cancel)).toEqual([`builds ${id}`]);
  // A renewal that also changed another column is a change.
  const both = () => db.pool.query("UPDATE builds SET heartbeat_at = now(), status = 'cancelled' WHERE id = $1", [id]);
  expect(await notifiedBy(both)).toEqual([`builds ${id}`]);
  // An update that matched no row has nothing to tell.
  const none = () => db.pool.query('UPDATE builds SET status = status WHERE id = $1', [randomUUID()]);
  expect(await notifiedBy(none)).toEqual([]);
  // Deleting cascades to the build's rows in other tables, which notify too.
  expect(await notifiedBy(() => db.pool.query('DELETE FROM builds WHERE id = $1', [id]))).toContain(`builds ${id}`);
});

test('rows of several builds name each; a package moving to a hotfix names both; many builds name the table', async () => {
  const store = new BuildStore(db.pool, noFailureNotifications);
  let ids: string[] = [];
  await notifiedBy(async () => (ids = [await queued(store), await queued(store)].sort()));
  const [a, b] = ids as [string, string];
  const stages = () =>
    db.pool.query(
      `INSERT INTO build_stages (build_id, position, name, status) SELECT id, 0, 'build', 'succeeded'
         FROM unnest($1::uuid[]) id`,
      [[a, b]],
    );
  expect(await notifiedBy(stages)).toEqual([`build_stages ${a},${b}`]);

  const recorded = () =>
    db.pool.query(
      `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count) VALUES ('zlib', '1.3.1', 'amd64', $1, 1, 0)`,
      [a],
    );
  expect(await notifiedBy(recorded)).toEqual([`packages ${a}`]);
  const hotfix = () => db.pool.query("UPDATE packages SET build_id = $1 WHERE name = 'zlib'", [b]);
  expect(await notifiedBy(hotfix)).toEqual([`packages ${a},${b}`]);

  const many = () =>
    db.pool.query(
      `INSERT INTO builds (id, repo, branch, status) SELECT gen_random_uuid(), '/srv/git/x.git', 'x-1.0', 'queued'
         FROM generate_series(1, 51)`,
    );
  expect(await notifiedBy(many)).toEqual(['builds']);
});
