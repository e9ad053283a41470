/**
 * kiln server with a real agent, Docker, PostgreSQL and a RabbitMQ node of
 * the test's own: live logs over SSE (resumed with Last-Event-ID, across a
 * server restart and a RabbitMQ restart), cancelling a running build, and
 * `kiln fetch` from the signed repository.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createToken } from '@kiln/server';
import {
  builds,
  containersOf,
  publishJob,
  readyMessages,
  releaseRepo,
  startTestAgent,
  waitUntil,
} from './helpers/agent-fixtures.js';
import { startOwnRabbit, type OwnRabbit } from './helpers/crawler-fixtures.js';
import { createTestDatabase, freePort, type TestDatabase, type TestRepo } from './helpers/index.js';
import { logLines, openSse, startTestServer, type SseClient } from './helpers/server-fixtures.js';

jest.setTimeout(300_000);
const run = promisify(execFile);

/** Prints `lines` numbered lines, one every `every` seconds, then installs /usr/bin/hello. */
function slowManifest(lines: number, every = 0.2): string {
  return [
    'image: kiln/busybox:latest',
    'stages: [build]',
    'build:',
    '  script:',
    `    - i=1; while [ $i -le ${lines} ]; do echo "line $i"; i=$((i+1)); sleep ${every}; done`,
    `    - printf '#!/bin/sh\\necho hello\\n' > hello`,
    'install:',
    '  script:',
    '    - mkdir -p "$DESTDIR/usr/bin"',
    '    - cp hello "$DESTDIR/usr/bin/hello" && chmod 755 "$DESTDIR/usr/bin/hello"',
    '',
  ].join('\n');
}

let root: string;
let rabbit: OwnRabbit;
let db: TestDatabase;
let agent: Awaited<ReturnType<typeof startTestAgent>>;
let port: number;
let server: Awaited<ReturnType<typeof startTestServer>>;
let keyDir: string;
let adminToken: string;
const repos: TestRepo[] = [];

function serverEnv(): Record<string, string> {
  return {
    KILN_ARTIFACT_DIR: path.join(agent.dirs, 'artifacts'),
    KILN_SIGNING_KEY: path.join(keyDir, 'signing-key.asc'),
  };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-server-live-'));
  keyDir = path.join(root, 'keys');
  // The CLI (keys, fetch) runs from the packages' dist: build them first.
  await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/server']);
  const generated = await run(process.execPath, [
    '--import',
    'tsx',
    'src/cli/run.ts',
    'keys',
    'generate',
    '--out',
    path.join(keyDir, 'signing-key.asc'),
  ]);
  await writeFile(path.join(keyDir, 'repo-key.asc'), generated.stdout);
  [rabbit, db] = await Promise.all([startOwnRabbit(), createTestDatabase('kiln_server_live')]);
  // Artifacts as .tar.zst: the repository and `kiln fetch` follow packages.artifact_format.
  agent = await startTestAgent({
    db,
    amqpUrl: rabbit.url,
    agentId: 'live-agent',
    concurrency: 2,
    env: { KILN_ARTIFACT_FORMAT: 'tar.zst' },
  });
  port = await freePort();
  server = await startTestServer({ db, amqpUrl: rabbit.url, port, env: serverEnv() });
  adminToken = (await createToken(db.pool, 'live-admin', 'admin')).token;
});

afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  await agent?.[Symbol.asyncDispose]();
  await rabbit?.[Symbol.asyncDispose]();
  await db?.[Symbol.asyncDispose]();
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

/** A queued build row (so its log can be followed before the job is even sent), then its job. */
async function startBuild(name: string, manifest: string): Promise<string> {
  const made = await releaseRepo(name, '1.0', manifest, root);
  repos.push(made.repo);
  const id = randomUUID();
  await db.pool.query(`INSERT INTO builds (id, repo, branch, status) VALUES ($1, $2, $3, 'queued')`, [
    id,
    made.repo.bare,
    made.branch,
  ]);
  return id;
}

async function sendJob(id: string): Promise<void> {
  const { rows } = await db.pool.query<{ repo: string; branch: string }>(
    'SELECT repo, branch FROM builds WHERE id = $1',
    [id],
  );
  await publishJob(rabbit.url, { id, repo: rows[0]!.repo, branch: rows[0]!.branch, trigger: 'cli' });
}

async function storedLog(id: string): Promise<Array<{ id: string; text: string }>> {
  const { rows } = await db.pool.query<{ attempt: number; seq: number; chunk: string }>(
    'SELECT attempt, seq, chunk FROM build_logs WHERE build_id = $1 ORDER BY attempt, seq',
    [id],
  );
  return rows.map((r) => ({ id: `${r.attempt}:${r.seq}`, text: r.chunk }));
}

function follow(id: string, lastEventId?: string): Promise<SseClient> {
  return openSse(
    `http://127.0.0.1:${port}/api/v1/builds/${id}/log`,
    lastEventId ? { 'last-event-id': lastEventId } : {},
  );
}

const lineCount = (client: SseClient): number =>
  logLines(client.events)
    .map((l) => l.text)
    .join('')
    .split('\n')
    .filter((l) => /^line \d+$/.test(l)).length;

const ended = (client: SseClient): boolean => client.events.some((e) => e.event === 'end');

/** What every connection received, checked against what the agent stored: every row once, in order. */
async function expectWholeLog(id: string, clients: SseClient[]): Promise<void> {
  const received = clients.flatMap((c) => logLines(c.events));
  const stored = await storedLog(id);
  expect(received.map((l) => l.id)).toEqual(stored.map((r) => r.id));
  expect(received.map((l) => l.text).join('')).toBe(stored.map((r) => r.text).join(''));
  const last = clients[clients.length - 1]!;
  const end = last.events.find((e) => e.event === 'end');
  expect(JSON.parse(end?.data ?? '{}')).toMatchObject({ status: 'succeeded' });
}

describe('live logs over SSE', () => {
  test('a build followed from before its first stage to its end, with a resume in the middle', async () => {
    const id = await startBuild('sse-follow', slowManifest(25));
    const first = await follow(id);
    expect(first.status).toBe(200);
    await sendJob(id);
    await first.waitFor(() => lineCount(first) >= 5, 'five lines live');
    expect(first.events.some((e) => e.event === 'stage')).toBe(true);
    first.close();
    await first.ended;
    const lastId = logLines(first.events).at(-1)!.id;
    const second = await follow(id, lastId);
    await second.waitFor(() => ended(second), 'the end event', 120_000);
    expect(lineCount(first) + lineCount(second)).toBe(25);
    await expectWholeLog(id, [first, second]);
    // Started following before the build did: the first event is the very first stored line.
    expect(logLines(first.events)[0]?.id).toBe('1:0');
  });

  test('a server restart mid-build loses no line for a client that reconnects', async () => {
    const id = await startBuild('sse-restart', slowManifest(30));
    await sendJob(id);
    const first = await follow(id);
    await first.waitFor(() => lineCount(first) >= 5, 'five lines');
    await server.close();
    await first.ended;
    server = await startTestServer({ db, amqpUrl: rabbit.url, port, env: serverEnv() });
    const second = await follow(id, logLines(first.events).at(-1)!.id);
    await second.waitFor(() => ended(second), 'the end event after the restart', 120_000);
    expect(lineCount(first) + lineCount(second)).toBe(30);
    await expectWholeLog(id, [first, second]);
  });

  test('a RabbitMQ restart mid-build loses no line, followed through it and after a reconnect', async () => {
    const id = await startBuild('sse-rabbit', slowManifest(60, 0.25));
    await sendJob(id);
    const first = await follow(id);
    await first.waitFor(() => lineCount(first) >= 5, 'five lines');
    await rabbit.stop();
    // Events are gone with the broker; the log keeps coming from the database.
    const before = lineCount(first);
    await first.waitFor(() => lineCount(first) >= before + 5, 'lines while RabbitMQ is down');
    first.close();
    await first.ended;
    await rabbit.start();
    const second = await follow(id, logLines(first.events).at(-1)!.id);
    await second.waitFor(() => ended(second), 'the end event after the broker came back', 180_000);
    expect(lineCount(first) + lineCount(second)).toBe(60);
    await expectWholeLog(id, [first, second]);
  });
});

describe('cancel', () => {
  test('stops a running build within 5 s: cancelled, its job acked, no email', async () => {
    const id = await startBuild('cancel-me', slowManifest(600, 0.1));
    await sendJob(id);
    await waitUntil(async () => (await containersOf(id)).length > 0, 'the build to run');
    const asked = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/builds/${id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id, status: 'running' });
    await waitUntil(async () => (await containersOf(id)).length === 0, 'its containers to go', 10_000);
    const stoppedMs = Date.now() - asked;
    const [row] = await waitUntil(async () => {
      const rows = await builds(db.pool, 'id = $1', [id]);
      return rows[0]?.status === 'cancelled' && rows;
    }, 'the build to be recorded cancelled');
    expect(stoppedMs).toBeLessThan(5_000);
    expect(row).toMatchObject({ status: 'cancelled', attempt: 1 });
    const metrics = await waitUntil(async () => {
      const text = await (await fetch(`http://127.0.0.1:${agent.service.port}/metrics`)).text();
      return text.includes('kiln_agent_jobs_total{status="cancelled"} 1') && text;
    }, 'the job to be acknowledged as cancelled');
    expect(metrics).toContain('kiln_agent_jobs_total{status="cancelled"} 1');
    expect(await readyMessages(rabbit.url)).toBe(0);
    expect((await db.pool.query('SELECT 1 FROM notifications WHERE build_id = $1', [id])).rowCount).toBe(0);
  });
});

describe('kiln fetch', () => {
  let pkgId: string;
  let proxy: Server | null = null;

  beforeAll(async () => {
    pkgId = await startBuild('fetchme', slowManifest(1, 0));
    await sendJob(pkgId);
    await waitUntil(
      async () => (await builds(db.pool, "id = $1 AND status = 'succeeded'", [pkgId])).length,
      'fetchme to build',
      120_000,
    );
  });
  afterAll(() => {
    proxy?.close();
  });

  async function fetchCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'fetch', ...args], {
        env: { ...process.env, KILN_REPO_KEY: path.join(keyDir, 'repo-key.asc') },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  test('installs a built package after checking the signature and the sha256', async () => {
    const to = path.join(root, 'install');
    const res = await fetchCli(['fetchme@1.0', '--to', to, '--server', `http://127.0.0.1:${port}`, '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ name: 'fetchme', version: '1.0', buildId: pkgId, files: 1 });
    expect(await readFile(path.join(to, 'usr/bin/hello'), 'utf8')).toBe('#!/bin/sh\necho hello\n');
    expect((await stat(path.join(to, 'usr/bin/hello'))).mode & 0o777).toBe(0o755);
    // The signature holds for an independent OpenPGP implementation too (GnuPG's gpgv).
    const index = await fetch(`http://127.0.0.1:${port}/repo/index.json`);
    expect(index.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
    const bytes = Buffer.from(await index.arrayBuffer());
    const entry = (JSON.parse(bytes.toString('utf8')) as { packages: Array<Record<string, unknown>> }).packages.find(
      (p) => p.name === 'fetchme',
    );
    expect(entry).toMatchObject({
      format: 'tar.zst',
      url: expect.stringMatching(/^artifacts\/fetchme-1\.0-\w+\.tar\.zst$/),
    });
    const signed = path.join(root, 'index.json');
    await writeFile(signed, bytes);
    await writeFile(`${signed}.asc`, await (await fetch(`http://127.0.0.1:${port}/repo/index.json.asc`)).text());
    const keyring = path.join(root, 'keyring.gpg');
    await run('gpg', ['--batch', '--yes', '--output', keyring, '--dearmor', path.join(keyDir, 'repo-key.asc')]);
    await run('gpgv', ['--keyring', keyring, `${signed}.asc`, signed]);
  });

  test('a .tar.gz artifact (as written before .tar.zst) is served and installed as well', async () => {
    // The same tar as fetchme's, recompressed with gzip, recorded as another package's artifact.
    const { rows } = await db.pool.query<{ artifact: string }>("SELECT artifact FROM packages WHERE name = 'fetchme'");
    const gz = path.join(path.dirname(rows[0]!.artifact), 'oldpack-0.9.tar.gz');
    await run('sh', ['-c', 'zstd -dc "$1" | gzip -c > "$2"', 'sh', rows[0]!.artifact, gz]);
    const sha256 = (await run('sha256sum', [gz])).stdout.split(' ')[0];
    const oldId = randomUUID();
    await db.pool.query(
      `INSERT INTO builds (id, repo, package_name, package_version, status) VALUES ($1, '/srv/old.git', 'oldpack', '0.9', 'succeeded')`,
      [oldId],
    );
    await db.pool.query(
      `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count, payload_sha256, artifact, artifact_format)
       VALUES ('oldpack', '0.9', 'amd64', $1, 21, 0, $2, $3, 'tar.gz')`,
      [oldId, sha256, gz],
    );
    const to = path.join(root, 'install-gz');
    const res = await fetchCli(['oldpack', '--to', to, '--server', `http://127.0.0.1:${port}`, '--json']);
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toMatchObject({ name: 'oldpack', version: '0.9', buildId: oldId });
    expect(await readFile(path.join(to, 'usr/bin/hello'), 'utf8')).toBe('#!/bin/sh\necho hello\n');
    const api = (await (await fetch(`http://127.0.0.1:${port}/api/v1/packages/oldpack/0.9`)).json()) as Record<
      string,
      unknown
    >;
    expect(api).toMatchObject({
      artifactFormat: 'tar.gz',
      artifactUrl: expect.stringMatching(/oldpack-0\.9-\w+\.tar\.gz$/),
    });
  });

  test('refuses a tampered index with the reason, and installs nothing', async () => {
    proxy = createServer((req, res) => {
      void (async () => {
        const upstream = await fetch(`http://127.0.0.1:${port}${req.url ?? '/'}`);
        let body = Buffer.from(await upstream.arrayBuffer());
        if (req.url === '/repo/index.json') body = Buffer.from(body.toString('utf8').replace('"1.0"', '"1.1"'));
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
        res.end(body);
      })();
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    const proxyPort = (proxy.address() as { port: number }).port;
    const to = path.join(root, 'tampered-index');
    const res = await fetchCli(['fetchme', '--to', to, '--server', `http://127.0.0.1:${proxyPort}`]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('the index signature does not verify');
    await expect(stat(to)).rejects.toThrow();
  });

  test('refuses a tampered artifact with the reason, and installs nothing', async () => {
    const { rows } = await db.pool.query<{ artifact: string }>("SELECT artifact FROM packages WHERE name = 'fetchme'");
    await fetch(`http://127.0.0.1:${port}/repo/index.json`); // the index is made before the artifact changes
    await appendFile(rows[0]!.artifact, Buffer.from([0]));
    const to = path.join(root, 'tampered-artifact');
    const res = await fetchCli(['fetchme', '--to', to, '--server', `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /the artifact's sha256 is [0-9a-f]{64}, but the signed index says [0-9a-f]{64}: refusing it/,
    );
    await expect(stat(to)).rejects.toThrow();
  });

  test('artifacts are served with ETag and Range', async () => {
    const arch = (
      JSON.parse(await (await fetch(`http://127.0.0.1:${port}/repo/index.json`)).text()) as { arch: string[] }
    ).arch[0]!;
    const name = `fetchme-1.0-${arch}.tar.zst`;
    const whole = await fetch(`http://127.0.0.1:${port}/repo/artifacts/${name}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('application/zstd');
    // Only under the name its format gives it.
    expect((await fetch(`http://127.0.0.1:${port}/repo/artifacts/fetchme-1.0-${arch}.tar.gz`)).status).toBe(404);
    const etag = whole.headers.get('etag');
    expect(etag).toBeTruthy();
    const size = (await whole.arrayBuffer()).byteLength;
    const part = await fetch(`http://127.0.0.1:${port}/repo/artifacts/${name}`, { headers: { range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-9/${size}`);
    expect((await part.arrayBuffer()).byteLength).toBe(10);
    // node:http, not fetch: fetch adds "cache-control: no-cache" to a conditional request, which forbids a 304.
    const again = await new Promise<number>((resolve, reject) => {
      get(`http://127.0.0.1:${port}/repo/artifacts/${name}`, { headers: { 'if-none-match': etag! } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(again).toBe(304);
  });
});
