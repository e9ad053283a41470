import { randomUUID } from 'node:crypto';
import { BuildStore, noFailureNotifications } from '@kiln/agent';
import { CHANGES_CHANNEL, ChangeListener, createLogger } from '@kiln/shared';
import { createTestDatabase, waitFor, type TestDatabase } from './helpers/index.js';

/**
 * Migrations 017 and 019: what the agent writes notifies `kiln_changes`
 * after each commit, naming the table, except a running build's lease
 * renewals, which change nothing a kept answer shows.
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
    onChange: (table) => heard.push(table),
    onState: (up) => (listening = up),
  });
  listener.start();
  await waitFor(() => listening, 'the change listener');
});
afterAll(async () => {
  await listener.close();
  await db[Symbol.asyncDispose]();
});

/** The tables `write` notified, each once, known once a marker notification sent after it arrives. */
async function notifiedBy(write: () => Promise<unknown>): Promise<string[]> {
  heard.length = 0;
  await write();
  await db.pool.query(`SELECT pg_notify($1, 'marker')`, [CHANGES_CHANNEL]);
  await waitFor(() => heard.includes('marker'), 'the marker notification');
  return [...new Set(heard.filter((t) => t !== 'marker'))];
}

test('a lease renewal notifies nobody; queueing, claiming and cancelling a build do', async () => {
  const store = new BuildStore(db.pool, noFailureNotifications);
  const id = randomUUID();
  expect(await notifiedBy(() => store.ensureQueued({ id, repo: '/srv/git/zlib.git', branch: 'zlib-1.3.1' }))).toEqual([
    'builds',
  ]);
  let claim: Awaited<ReturnType<BuildStore['claim']>> | undefined;
  expect(await notifiedBy(async () => (claim = await store.claim(id, 'agent-a', 60_000)))).toEqual(['builds']);
  expect(claim?.kind).toBe('claimed');
  const ref = { buildId: id, attempt: claim?.kind === 'claimed' ? claim.attempt : 0, agent: 'agent-a' };

  const renewed = await notifiedBy(async () => expect(await store.heartbeat(ref, 60_000)).toBe(true));
  expect(renewed).toEqual([]);
  expect(
    await notifiedBy(() => db.pool.query('UPDATE builds SET cancel_requested_at = now() WHERE id = $1', [id])),
  ).toEqual(['builds']);
  // A renewal that also changed another column is a change.
  expect(
    await notifiedBy(() =>
      db.pool.query("UPDATE builds SET heartbeat_at = now(), status = 'cancelled' WHERE id = $1", [id]),
    ),
  ).toEqual(['builds']);
  // An update that matched no row has nothing to tell.
  expect(
    await notifiedBy(() => db.pool.query('UPDATE builds SET status = status WHERE id = $1', [randomUUID()])),
  ).toEqual([]);
  // Deleting cascades to the build's rows in other tables, which notify too.
  expect(await notifiedBy(() => db.pool.query('DELETE FROM builds WHERE id = $1', [id]))).toContain('builds');
});
