/**
 * kiln server's HTTP API against a real PostgreSQL and RabbitMQ: reads,
 * filters and keyset pages, search, tokens and writes, bad input, the
 * OpenAPI document, CORS and request logs.
 */
import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteOptions } from 'fastify';
import { createLogger, debianHostArch } from '@kiln/shared';
import { ArtifactStore, PackageIndex, buildApp, createToken, noLiveEvents, type BuildSubmitter } from '@kiln/server';
import { captureLogs, QueueReader } from './helpers/crawler-fixtures.js';
import {
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { seedBuild, startTestServer } from './helpers/server-fixtures.js';

jest.setTimeout(60_000);
const run = promisify(execFile);
const ARCH = debianHostArch();

let db: TestDatabase;
let vhost: TestVhost;
let repo: TestRepo;
let server: Awaited<ReturnType<typeof startTestServer>>;
const logs = captureLogs('info');
const tokens: Record<'read' | 'submit' | 'admin', string> = { read: '', submit: '', admin: '' };
const ids: Record<string, string> = {};

beforeAll(async () => {
  [db, vhost, repo] = await Promise.all([
    createTestDatabase('kiln_server_api'),
    createTestVhost('kiln-server-api'),
    createTestRepo({ name: 'apitest' }),
  ]);
  await repo.pushBranch('apitest-1.0', { 'a.txt': 'a\n' });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  ids.zlib1 = await seedBuild(db.pool, {
    name: 'zlib',
    version: '1.2.13',
    queuedAt: new Date(t0),
    files: [{ path: '/usr/lib/libz.so.1.2.13', kind: 'shared-library', soname: 'libz.so.1', needed: ['libc.so.6'] }],
  });
  ids.zlib2 = await seedBuild(db.pool, {
    name: 'zlib',
    version: '1.3.1',
    queuedAt: new Date(t0 + 1000),
    files: [
      { path: '/usr/lib/libz.so.1.3.1', kind: 'shared-library', soname: 'libz.so.1', needed: ['libc.so.6'] },
      { path: '/usr/lib/libz.so.1', kind: 'symlink' },
    ],
  });
  ids.curl = await seedBuild(db.pool, {
    name: 'curl',
    version: '8.5.0',
    queuedAt: new Date(t0 + 2000),
    files: [{ path: '/usr/bin/curl', kind: 'executable', sha256: 'c'.repeat(64), needed: ['libz.so.1', 'libc.so.6'] }],
    artifact: '/etc/passwd',
  });
  ids.failed = await seedBuild(db.pool, {
    name: 'curl',
    version: '8.6.0',
    status: 'failed',
    queuedAt: new Date(t0 + 3000),
  });
  ids.queued = await seedBuild(db.pool, {
    name: 'openssl',
    version: '3.0.13',
    status: 'queued',
    queuedAt: new Date(t0 + 4000),
  });
  await db.pool.query(
    `INSERT INTO build_stages (build_id, position, name, image, status, exit_code, started_at, duration_ms)
     VALUES ($1, 0, 'build', 'debian:bookworm', 'succeeded', 0, now(), 1500)`,
    [ids.curl],
  );
  await db.pool.query(
    `INSERT INTO build_commands (build_id, stage_position, position, command, exit_code, started_at, duration_ms)
     VALUES ($1, 0, 0, 'make -j2', 0, now(), 1400)`,
    [ids.curl],
  );
  await db.pool.query(
    `INSERT INTO build_phases (build_id, attempt, position, phase, stage, started_at, duration_ms)
     VALUES ($1, 1, 0, 'queue', NULL, timestamptz '2026-01-01', 200),
            ($1, 1, 1, 'stage', 'build', timestamptz '2026-01-01' + interval '0.5 s', 1500)`,
    [ids.curl],
  );
  await db.pool.query(
    `INSERT INTO build_logs (build_id, attempt, seq, stage, stream, chunk)
     VALUES ($1, 1, 0, 'build', 'stdout', 'hello\n'), ($1, 1, 1, 'build', 'stderr', 'world\n')`,
    [ids.curl],
  );
  for (const scope of ['read', 'submit', 'admin'] as const) {
    tokens[scope] = (await createToken(db.pool, `t-${scope}`, scope)).token;
  }
  server = await startTestServer({ db, amqpUrl: vhost.url, logger: logs.logger });
});

afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  await repo[Symbol.asyncDispose]();
  await vhost[Symbol.asyncDispose]();
  await db[Symbol.asyncDispose]();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: body as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('reads', () => {
  test('builds: newest first, in keyset pages that add up to the whole list once', async () => {
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page = await get(`/api/v1/builds?limit=2${next ? `&before=${next}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.builds.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.builds.map((b: { id: string }) => b.id));
      next = page.body.next;
    } while (next);
    expect(seen).toEqual([ids.queued, ids.failed, ids.curl, ids.zlib2, ids.zlib1]);
  });

  test('builds: filters by package, status and arch', async () => {
    const curl = await get('/api/v1/builds?package=curl');
    expect(curl.body.builds.map((b: { id: string }) => b.id)).toEqual([ids.failed, ids.curl]);
    const failed = await get('/api/v1/builds?status=failed');
    expect(failed.body.builds.map((b: { id: string }) => b.id)).toEqual([ids.failed]);
    expect((await get(`/api/v1/builds?arch=${ARCH}&limit=1`)).body.builds).toHaveLength(1);
    expect((await get('/api/v1/builds?arch=s390x')).body).toEqual({ builds: [], next: null });
  });

  test("one build: its reproducibility verdict, its documents' links and its analysis", async () => {
    const analysis = {
      provides: ['libz.so.1'],
      unresolved: [{ soname: 'libmissing.so.7', files: ['/usr/bin/x'] }],
      findings: [{ rule: 'setuid', level: 'warn', path: '/usr/bin/x', message: 'setuid file' }],
      changes: {
        against: ids.zlib1,
        basis: 'previous-version',
        added: 1,
        removed: 0,
        changed: 1,
        sizeChange: 10,
        providesAdded: [],
        providesRemoved: [],
        abiChange: false,
        hardeningLost: 0,
        slowerCommands: 0,
      },
    };
    const check = {
      status: 'unreproducible',
      differing: ['/usr/lib/libz.so.1'],
      differences: [{ path: '/usr/lib/libz.so.1', diff: 'a long diffoscope text' }],
      variations: { TZ: 'Etc/GMT-14' },
      durationMs: 1200,
    };
    await db.pool.query(
      `UPDATE builds SET reproducibility = 'unreproducible', reproducibility_report = $2::jsonb,
                         report = jsonb_build_object('analysis', $3::jsonb) WHERE id = $1`,
      [ids.zlib2, JSON.stringify(check), JSON.stringify(analysis)],
    );
    await db.pool.query(
      `INSERT INTO build_attestations (build_id, kind, media_type, sha256, path, signed_by, body)
       VALUES ($1, 'sbom', 'application/vnd.cyclonedx+json', $2, NULL, NULL, '{}'),
              ($1, 'provenance', 'application/vnd.dsse.envelope.v1+json', $3, NULL, 'ABCDEF', '{}')`,
      [ids.zlib2, 'a'.repeat(64), 'b'.repeat(64)],
    );
    try {
      const { status, body } = await get(`/api/v1/builds/${ids.zlib2}`);
      expect(status).toBe(200);
      expect(body.reproducibility).toEqual({
        status: 'unreproducible',
        differing: ['/usr/lib/libz.so.1'],
        url: `/api/v1/builds/${ids.zlib2}/reproducibility`,
      });
      expect(body.documents).toEqual([
        {
          kind: 'provenance',
          url: `/api/v1/builds/${ids.zlib2}/provenance`,
          sha256: 'b'.repeat(64),
          signedBy: 'ABCDEF',
        },
        { kind: 'sbom', url: `/api/v1/builds/${ids.zlib2}/sbom`, sha256: 'a'.repeat(64) },
      ]);
      expect(body.analysis).toEqual({
        ...analysis,
        changes: { ...analysis.changes, url: `/api/v1/builds/${ids.zlib2}/diff` },
      });
      // diffoscope's text stays behind the link.
      expect((await get(body.reproducibility.url)).body.differences).toEqual(check.differences);
    } finally {
      await db.pool.query('DELETE FROM build_attestations WHERE build_id = $1', [ids.zlib2]);
      await db.pool.query(
        'UPDATE builds SET reproducibility = NULL, reproducibility_report = NULL, report = NULL WHERE id = $1',
        [ids.zlib2],
      );
    }
  });

  test('one build: stages, commands, timings, files count and artifact', async () => {
    const { status, body } = await get(`/api/v1/builds/${ids.curl}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: ids.curl,
      status: 'succeeded',
      package: { name: 'curl', version: '8.5.0' },
      arch: ARCH,
      stages: [
        {
          name: 'build',
          image: 'debian:bookworm',
          exitCode: 0,
          durationMs: 1500,
          commands: [{ command: 'make -j2', durationMs: 1400 }],
        },
      ],
      timings: [
        { phase: 'queue', startMs: 0, durationMs: 200 },
        { phase: 'stage', stage: 'build', startMs: 500, durationMs: 1500 },
      ],
      files: { count: 1, sizeBytes: 100 },
      current: true,
      stalled: false,
      artifact: { url: `/repo/artifacts/curl-8.5.0-${ARCH}.tar.gz`, format: 'tar.gz' },
    });
    // Not checked, no documents, no analysis recorded.
    expect(body).toMatchObject({ reproducibility: null, documents: [], analysis: null });
    expect(body.stages[0].startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.queuedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const files = await get(`/api/v1/builds/${ids.zlib2}/files?limit=1`);
    expect(files.body.files.map((f: { path: string }) => f.path)).toEqual(['/usr/lib/libz.so.1']);
    const rest = await get(`/api/v1/builds/${ids.zlib2}/files?limit=1&after=${encodeURIComponent(files.body.next)}`);
    expect(rest.body).toMatchObject({ files: [{ path: '/usr/lib/libz.so.1.3.1', soname: 'libz.so.1' }], next: null });
  });

  test("a build's log as text", async () => {
    const res = await fetch(`${server.url}/api/v1/builds/${ids.curl}/log`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('hello\nworld\n');
  });

  test('packages, their versions, and one version with what it provides and needs', async () => {
    const list = await get('/api/v1/packages');
    expect(list.body.packages.map((p: { name: string; latest: string }) => [p.name, p.latest])).toEqual([
      ['curl', '8.5.0'],
      ['zlib', '1.3.1'],
    ]);
    const zlib = await get('/api/v1/packages/zlib');
    expect(zlib.body.versions.map((v: { version: string }) => v.version)).toEqual(['1.3.1', '1.2.13']);
    const curl = await get(`/api/v1/packages/curl/8.5.0?arch=${ARCH}`);
    expect(curl.body).toMatchObject({ provides: [], needs: ['libc.so.6', 'libz.so.1'], buildId: ids.curl });
    expect((await get('/api/v1/packages/zlib/1.3.1')).body).toMatchObject({
      provides: ['libz.so.1'],
      needs: ['libc.so.6'],
    });
    expect((await get('/api/v1/packages/zlib/1.3.1?arch=s390x')).status).toBe(404);
  });

  test('search by path, SONAME, needed library and sha256 finds current packages only', async () => {
    const byPath = await get('/api/v1/search?path=/usr/bin/curl');
    expect(byPath.body.hits.map((h: { package: { name: string } }) => h.package.name)).toEqual(['curl']);
    const bySoname = await get('/api/v1/search?soname=libz.so.1');
    // Both zlib versions are current packages; each provides libz.so.1.
    expect(bySoname.body.hits.map((h: { package: { version: string } }) => h.package.version)).toEqual([
      '1.2.13',
      '1.3.1',
    ]);
    const byNeeds = await get('/api/v1/search?needs=libz.so.1');
    expect(byNeeds.body.hits.map((h: { file: { path: string } }) => h.file.path)).toEqual(['/usr/bin/curl']);
    const bySha = await get(`/api/v1/search?sha256=${'c'.repeat(64)}`);
    expect(bySha.body).toMatchObject({ by: 'sha256', hits: [{ buildId: ids.curl }] });
    expect((await get('/api/v1/search?path=/nope')).body.hits).toEqual([]);
  });
});

describe('bad input', () => {
  test('unknown routes are 404 in the error shape', async () => {
    const res = await get('/api/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'no route GET /api/v1/nothing' } });
    expect((await get(`/api/v1/builds/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)).status).toBe(404);
  });

  test.each([
    ['/api/v1/builds/not-a-uuid', 'params.id'],
    ['/api/v1/builds?limit=0', 'query.limit'],
    ['/api/v1/builds?limit=abc', 'query.limit'],
    ['/api/v1/builds?status=sleeping', 'query.status'],
    ['/api/v1/builds?before=nope', 'query.before'],
    ['/api/v1/builds?before=00000000-0000-4000-8000-000000000000', 'query.before'],
    ['/api/v1/packages/..%2Fetc', 'params.name'],
    ['/api/v1/search?sha256=xyz', 'query.sha256'],
    ['/api/v1/search?path=relative', 'query.path'],
    ['/api/v1/search', 'query: give exactly one of'],
    ['/api/v1/search?soname=a&needs=b', 'query: give exactly one of'],
  ])('%s is a 400 that names %s', async (path, name) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_parameter');
    expect(res.body.error.message).toContain(name);
  });

  test('a Last-Event-ID that is not <attempt>:<seq> is a 400 that names it', async () => {
    const res = await get(`/api/v1/builds/${ids.curl}/log`, { accept: 'text/event-stream', 'last-event-id': 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('header.last-event-id');
  });

  test('a body over 64 KiB is a 413, and nothing is queued', async () => {
    const res = await post('/api/v1/builds', { repo: repo.bare, branch: 'x'.repeat(70 * 1024) }, tokens.submit);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
    expect((await db.pool.query("SELECT 1 FROM builds WHERE trigger = 'api'")).rowCount).toBe(0);
  });

  test('an unknown body field and an unknown arch are 400s that name them', async () => {
    const extra = await post('/api/v1/builds', { repo: repo.bare, colour: 'blue' }, tokens.submit);
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain('colour');
    const arch = await post('/api/v1/builds', { repo: repo.bare, arch: 'aarch64' }, tokens.submit);
    expect(arch.status).toBe(400);
    expect(arch.body.error.message).toContain('body.arch');
  });

  test('artifact names that try to leave the artifact folder are 404s', async () => {
    for (const name of ['..%2F..%2Fetc%2Fpasswd', '..', `curl-8.5.0-${ARCH}.tar.gz`, `zlib-1.3.1-${ARCH}.tar.gz`]) {
      // curl's row points at /etc/passwd, outside the folder; zlib has no artifact.
      expect((await get(`/repo/artifacts/${name}`)).status).toBe(404);
    }
    expect((await get('/repo/artifacts/%2Fetc%2Fpasswd')).status).toBe(404);
  });
});

describe('writes with tokens', () => {
  let queue: QueueReader;
  beforeAll(async () => {
    queue = await QueueReader.open(vhost.url);
  });
  afterAll(async () => {
    await queue.close();
  });

  test('submit refuses a missing or wrong token with 401 and a read token with 403', async () => {
    const none = await post('/api/v1/builds', { repo: repo.bare });
    expect(none.status).toBe(401);
    expect(none.body.error.message).toContain('kiln token create');
    expect((await post('/api/v1/builds', { repo: repo.bare }, 'kiln_wrong')).status).toBe(401);
    const read = await post('/api/v1/builds', { repo: repo.bare }, tokens.read);
    expect(read.status).toBe(403);
    expect(read.body.error.message).toBe('the token "t-read" has scope read; this needs submit');
  });

  test('submit queues a build and publishes its job', async () => {
    const res = await post('/api/v1/builds', { repo: repo.bare, branch: 'apitest-1.0' }, tokens.submit);
    expect(res.status).toBe(202);
    const [job] = await queue.take(1);
    expect(job?.body).toMatchObject({ id: res.body.id, repo: repo.bare, branch: 'apitest-1.0', trigger: 'api' });
    const row = await db.pool.query('SELECT status, trigger, package_name FROM builds WHERE id = $1', [res.body.id]);
    expect(row.rows[0]).toEqual({ status: 'queued', trigger: 'api', package_name: 'apitest' });
  });

  test('rebuild makes a new build of the same commit', async () => {
    expect((await post(`/api/v1/builds/${ids.curl}/rebuild`, {})).status).toBe(401);
    const res = await post(`/api/v1/builds/${ids.curl}/rebuild`, {}, tokens.submit);
    expect(res.status).toBe(202);
    expect(res.body.id).not.toBe(ids.curl);
    const [job] = await queue.take(1);
    expect(job?.body).toMatchObject({ id: res.body.id, commit: 'a'.repeat(40), trigger: 'rebuild' });
    const built = await get(`/api/v1/builds/${res.body.id}`);
    expect(built.body).toMatchObject({ rebuildOf: ids.curl, trigger: 'rebuild', commit: 'a'.repeat(40) });
  });

  test('cancel needs an admin token; a queued build is cancelled at once; a finished one is a 409', async () => {
    expect((await post(`/api/v1/builds/${ids.queued}/cancel`, {})).status).toBe(401);
    expect((await post(`/api/v1/builds/${ids.queued}/cancel`, {}, tokens.submit)).status).toBe(403);
    const res = await post(`/api/v1/builds/${ids.queued}/cancel`, {}, tokens.admin);
    expect(res).toEqual({ status: 202, body: { id: ids.queued, status: 'cancelled' } });
    expect((await get(`/api/v1/builds/${ids.queued}`)).body).toMatchObject({
      status: 'cancelled',
      cancelRequested: true,
    });
    const again = await post(`/api/v1/builds/${ids.queued}/cancel`, {}, tokens.admin);
    expect(again.status).toBe(409);
  });

  test('request logs never carry a token', () => {
    const text = logs.text();
    expect(text).toContain('"statusCode":202');
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    expect(text).not.toMatch(/authorization/i);
  });
});

describe('the OpenAPI document', () => {
  test('validates as OpenAPI 3.1, and every route the server serves is in it', async () => {
    const served: RouteOptions[] = [];
    const logger = createLogger({ level: 'silent', pretty: false });
    const submitter: BuildSubmitter = { submit: () => Promise.reject(new Error('not in this test')) };
    const app = await buildApp(
      {
        db: db.pool,
        live: noLiveEvents,
        logger,
        arch: ARCH,
        auth: 'write',
        corsOrigins: [],
        index: new PackageIndex({ db: db.pool, arch: ARCH, artifactPath: () => null, signer: null, logger }),
        artifacts: new ArtifactStore('/nonexistent'),
        signer: null,
        submitter,
        checkResponses: true,
      },
      { onRoute: (route) => served.push(route) },
    );
    try {
      // Served for real: light-my-request (inject) does not load under jest's ESM mode.
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      const doc = (await (await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
      };
      expect(doc.openapi).toBe('3.1.0');
      const validator = new Validator();
      const result = await validator.validate(doc as unknown as Record<string, unknown>);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      const documented = new Set(
        Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`)),
      );
      // The web page's routes (pages and their assets) are not API and are left out of it on purpose.
      const routes = served
        .filter((r) => !(r.schema as { hide?: boolean } | undefined)?.hide)
        .flatMap((r) =>
          (Array.isArray(r.method) ? r.method : [r.method]).map((m) => `${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`),
        )
        .filter((r) => !r.startsWith('HEAD '));
      expect(routes.length).toBeGreaterThanOrEqual(15);
      expect(routes.filter((r) => !documented.has(r))).toEqual([]);
      // And the document from the running server is the same one.
      expect((await get('/api/v1/openapi.json')).body.paths).toEqual(doc.paths);
    } finally {
      await app.close();
    }
  });
});

describe('configuration', () => {
  test('CORS is off by default and on for the configured origins only', async () => {
    const plain = await fetch(`${server.url}/api/v1/builds`, { headers: { origin: 'http://elsewhere.example.org' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    await using withCors = await startTestServer({
      db,
      amqpUrl: vhost.url,
      env: { KILN_HTTP_CORS_ORIGINS: 'http://ui.example.org' },
    });
    const allowed = await fetch(`${withCors.url}/api/v1/builds`, { headers: { origin: 'http://ui.example.org' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://ui.example.org');
    const other = await fetch(`${withCors.url}/api/v1/builds`, { headers: { origin: 'http://evil.example.org' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('KILN_HTTP_AUTH=read makes reads need a token (the OpenAPI document stays public)', async () => {
    await using closed = await startTestServer({ db, amqpUrl: vhost.url, env: { KILN_HTTP_AUTH: 'read' } });
    expect((await fetch(`${closed.url}/api/v1/builds`)).status).toBe(401);
    expect((await fetch(`${closed.url}/repo/index.json`)).status).toBe(401);
    const ok = await fetch(`${closed.url}/api/v1/builds`, { headers: { authorization: `Bearer ${tokens.read}` } });
    expect(ok.status).toBe(200);
    expect((await fetch(`${closed.url}/api/v1/openapi.json`)).status).toBe(200);
  });
});

describe('kiln token', () => {
  test('create prints the token once, list never shows it, revoke makes it useless', async () => {
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'packages/server']);
    const cli = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', 'token', ...args], {
        env: { ...process.env, KILN_DATABASE_URL: db.url },
      });
    const created = JSON.parse((await cli(['create', '--name', 'ci', '--scope', 'submit', '--json'])).stdout) as {
      token: string;
      scope: string;
    };
    expect(created.scope).toBe('submit');
    expect(created.token).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    const stored = await db.pool.query("SELECT token_sha256 FROM api_tokens WHERE name = 'ci'");
    expect(stored.rows[0]?.token_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored.rows)).not.toContain(created.token);
    const listed = (await cli(['list'])).stdout;
    expect(listed).toContain('ci');
    expect(listed).not.toContain(created.token);
    expect((await post('/api/v1/builds/' + ids.curl + '/rebuild', {}, created.token)).status).toBe(202);
    await cli(['revoke', 'ci']);
    expect((await post('/api/v1/builds/' + ids.curl + '/rebuild', {}, created.token)).status).toBe(401);
  });
});
