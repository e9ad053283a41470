/**
 * kiln server's answer cache against a real agent, PostgreSQL and RabbitMQ:
 * a kept answer is served again (`x-kiln-cache: hit`) until the database
 * changes one of the tables it was read from; a build that finishes is in the very next answer after its end
 * event; a direct write to the database is seen within the time its
 * notification takes; under KILN_HTTP_AUTH=read a kept answer never reaches a
 * reader without a valid token; while the server cannot hear of changes, it
 * keeps and serves nothing. Kept answers go gzipped to clients that accept
 * it, as JSON to others, and 304 to a client whose entity tag still holds.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createToken } from '@kiln/server';
import { helloManifest, publishJob, releaseRepo, startTestAgent, waitUntil } from './helpers/agent-fixtures.js';
import {
  createTestDatabase,
  createTestVhost,
  metricTotal,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { openSse, startTestServer } from './helpers/server-fixtures.js';

jest.setTimeout(180_000);

let root: string;
let db: TestDatabase;
let vhost: TestVhost;
let server: Awaited<ReturnType<typeof startTestServer>>;
const repos: TestRepo[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-server-cache-'));
  [db, vhost] = await Promise.all([createTestDatabase('kiln_server_cache'), createTestVhost('kiln-server-cache')]);
  server = await startTestServer({ db, amqpUrl: vhost.url });
});

afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  await vhost?.[Symbol.asyncDispose]();
  await db?.[Symbol.asyncDispose]();
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; cache: string | null; body: Json }> {
  const res = await fetch(url, { headers });
  return { status: res.status, cache: res.headers.get('x-kiln-cache'), body: await res.json() };
}

/** The listener is connected once an answer is kept: a second read of a URL is a hit. */
async function untilKept(url: string, headers: Record<string, string> = {}): Promise<void> {
  await waitUntil(async () => {
    await get(url, headers);
    return (await get(url, headers)).cache === 'hit';
  }, `a kept answer for ${url}`);
}

test('a finished build is in the next answer after its end event; kept answers until then', async () => {
  const made = await releaseRepo('cached', '1.0', helloManifest({ sleepSeconds: 1 }), root);
  repos.push(made.repo);
  const list = `${server.url}/api/v1/builds?limit=10`;
  const search = `${server.url}/api/v1/search?path=/usr/bin/hello`;
  await untilKept(list);
  await untilKept(search);
  expect((await get(list)).body.builds).toEqual([]);
  expect((await get(search)).body.hits).toEqual([]);

  const id = randomUUID();
  await db.pool.query(`INSERT INTO builds (id, repo, branch, status) VALUES ($1, $2, $3, 'queued')`, [
    id,
    made.repo.bare,
    made.branch,
  ]);
  // The queued build was written by someone else (here: the test, as the crawler would): its commit's
  // notification empties the cache, so it shows within moments though no build event was sent.
  await waitUntil(async () => (await get(list)).body.builds[0]?.id === id, 'the queued build in the list', 5_000);

  await using _agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'cache-agent' });
  const follower = await openSse(`${server.url}/api/v1/builds/${id}/log`);
  await publishJob(vhost.url, { id, repo: made.repo.bare, branch: made.branch, trigger: 'cli' });
  // While it runs, answers are kept, and the one build's answer shows it running.
  await waitUntil(async () => (await get(`${server.url}/api/v1/builds/${id}`)).body.status === 'running', 'running');
  await follower.waitFor((events) => events.some((e) => e.event === 'end'), 'the end event', 120_000);
  follower.close();

  // No waiting: the very next reads after the end event see the finished build and its file.
  const [after, found, one] = await Promise.all([get(list), get(search), get(`${server.url}/api/v1/builds/${id}`)]);
  expect(after.body.builds[0]).toMatchObject({ id, status: 'succeeded' });
  expect(one.body).toMatchObject({ id, status: 'succeeded', current: true });
  expect(found.body.hits).toMatchObject([{ buildId: id, package: { name: 'cached', version: '1.0' } }]);
  // And they are kept again.
  expect((await get(search)).cache).toBe('hit');
});

test('a write straight to the database is seen without a build event; a write through the server at once', async () => {
  const url = `${server.url}/api/v1/builds?limit=1`;
  await untilKept(url);
  const before = (await get(url)).body.builds[0];
  await db.pool.query(`UPDATE builds SET error = 'noted by hand' WHERE id = $1`, [before.id]);
  await waitUntil(async () => (await get(url)).body.builds[0]?.error === 'noted by hand', 'the new error', 5_000);

  const admin = (await createToken(db.pool, 'cache-admin', 'admin')).token;
  const queued = randomUUID();
  await db.pool.query(`INSERT INTO builds (id, repo, branch, status) VALUES ($1, '/srv/x.git', 'x-1.0', 'queued')`, [
    queued,
  ]);
  const one = `${server.url}/api/v1/builds/${queued}`;
  await untilKept(one);
  const cancel = await fetch(`${one}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(cancel.status).toBe(202);
  expect((await get(one)).body.status).toBe('cancelled');
});

test("a change takes only the answers read from its table, and of one build, only that build's", async () => {
  const list = `${server.url}/api/v1/builds?limit=1`;
  const search = `${server.url}/api/v1/search?path=/usr/bin/hello`;
  const versions = `${server.url}/api/v1/packages/cached`;
  const [build, other] = (await get(`${server.url}/api/v1/builds?limit=2`)).body.builds;
  const one = (b: { id: string }) => `${server.url}/api/v1/builds/${b.id}`;
  for (const url of [list, search, versions, one(build), one(other)]) await untilKept(url);
  // A build's row changed (as each stage and every status change does): its answer and the lists go;
  // other builds' answers and the package ones stay.
  await db.pool.query(`UPDATE builds SET error = 'builds only' WHERE id = $1`, [build.id]);
  await waitUntil(async () => (await get(list)).body.builds[0]?.error === 'builds only', 'the new error', 5_000);
  expect((await get(one(build))).body.error).toBe('builds only');
  expect((await get(one(other))).cache).toBe('hit');
  expect((await get(search)).cache).toBe('hit');
  expect((await get(versions)).cache).toBe('hit');
  // A package's files changed: the search and the package go.
  const hits = JSON.stringify((await get(search)).body.hits);
  await db.pool.query(`UPDATE package_files SET size = size + 1 WHERE path = '/usr/bin/hello'`);
  await waitUntil(async () => JSON.stringify((await get(search)).body.hits) !== hits, 'the new size', 5_000);
  expect((await get(versions)).cache).toBe('miss');

  // What the cache did is in /metrics, for an operator to watch its hit rate.
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  expect(metricTotal(metrics, 'kiln_http_cache_hits_total')).toBeGreaterThan(0);
  expect(metricTotal(metrics, 'kiln_http_cache_misses_total')).toBeGreaterThan(0);
  expect(metricTotal(metrics, 'kiln_http_cache_evictions_total')).toBeGreaterThanOrEqual(3);
  expect(metricTotal(metrics, 'kiln_http_cache_entries')).toBeGreaterThan(0);
});

test('under KILN_HTTP_AUTH=read a kept answer is never sent to a reader without a valid token', async () => {
  await using closed = await startTestServer({ db, amqpUrl: vhost.url, env: { KILN_HTTP_AUTH: 'read' } });
  const reader = (await createToken(db.pool, 'cache-reader', 'read')).token;
  const url = `${closed.url}/api/v1/builds?limit=5`;
  await untilKept(url, { authorization: `Bearer ${reader}` });
  const none = await get(url);
  expect(none.status).toBe(401);
  expect(none.cache).toBeNull();
  const wrong = await get(url, { authorization: 'Bearer kiln_wrong' });
  expect(wrong.status).toBe(401);
  expect(wrong.body.builds).toBeUndefined();
  expect((await get(url, { authorization: `Bearer ${reader}` })).cache).toBe('hit');
});

test('a change made while the server could not hear of it is not hidden by a kept answer', async () => {
  const url = `${server.url}/api/v1/builds?limit=1`;
  await untilKept(url);
  const kept = (await get(url)).body.builds[0];
  // The listening connection goes; the change below is notified to nobody. Kept answers from before it
  // must go too (on losing the connection, and again on listening anew), or the list would show the
  // old error until the answer's time ran out (a minute).
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'kiln-server-changes'`,
  );
  expect(rows[0]!.n).toBe(1);
  await db.pool.query(`UPDATE builds SET error = 'changed unheard' WHERE id = $1`, [kept.id]);
  await waitUntil(async () => (await get(url)).body.builds[0]?.error === 'changed unheard', 'the change', 5_000);
  await untilKept(url);
});

/** A GET with exactly these headers (fetch would add its own Accept-Encoding and decode the answer). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

test('a kept answer goes gzipped to a client that accepts it, plain to one that does not, 304 while its tag holds', async () => {
  const url = `${server.url}/api/v1/builds?limit=3`;
  await untilKept(url);
  const zipped = await rawGet(url, { 'accept-encoding': 'gzip, deflate, br' });
  const plain = await rawGet(url, {});
  const refused = await rawGet(url, { 'accept-encoding': 'gzip;q=0, identity' });
  expect(zipped).toMatchObject({ status: 200, headers: { 'content-encoding': 'gzip', vary: 'accept-encoding' } });
  expect(zipped.headers['x-kiln-cache']).toBe('hit');
  for (const answer of [plain, refused]) {
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(answer.body.equals(gunzipSync(zipped.body))).toBe(true);
  }
  const listed = JSON.parse(plain.body.toString('utf8')).builds;
  expect(listed.length).toBeGreaterThan(0);
  const etag = plain.headers.etag!;
  expect(etag).toMatch(/^W\/"/);
  expect(zipped.headers.etag).toBe(etag);

  const unchanged = await rawGet(url, { 'if-none-match': etag });
  expect(unchanged.status).toBe(304);
  expect(unchanged.body.length).toBe(0);
  // A change: the tag no longer holds, and the answer that replaces it has a tag of its own.
  await db.pool.query(`UPDATE builds SET error = 'tagged anew' WHERE id = $1`, [listed[0].id]);
  await waitUntil(async () => (await rawGet(url, { 'if-none-match': etag })).status === 200, 'a new answer', 5_000);
  const changed = await rawGet(url, {});
  expect(JSON.parse(changed.body.toString('utf8')).builds[0].error).toBe('tagged anew');
  expect(changed.headers.etag).not.toBe(etag);
  expect((await rawGet(url, { 'if-none-match': changed.headers.etag! })).status).toBe(304);
});
