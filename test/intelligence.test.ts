import { jest } from '@jest/globals';
/**
 * Package intelligence against the real services: libgreet and an app that
 * links it, built with gcc in kiln/bookworm-build by a real agent (RabbitMQ,
 * PostgreSQL, Docker, git): ELF facts, provides and needs, diffs, the
 * hardening policy, unresolved needs.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BuildDiff, BuildReport } from '@kiln/shared';
import { runCli } from '../src/cli/main.js';
import { AmqpJobPublisher, OutboxRelay } from '@kiln/crawler';
import { connectAmqp, createLogger } from '@kiln/shared';
import { builds, publishJob, startTestAgent, waitUntil } from './helpers/agent-fixtures.js';
import {
  createSmtpSink,
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  type SmtpSink,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { startTestServer } from './helpers/server-fixtures.js';

jest.setTimeout(600_000);

const EXAMPLES = path.resolve('examples');
let db: TestDatabase;
let vhost: TestVhost;
let root: string;
let smtp: SmtpSink;
let agent: Awaited<ReturnType<typeof startTestAgent>>;
const repos = new Map<string, TestRepo>();
/** The `lonely` 1.0.0 build (its greet-app needs libmissing.so.7), for the search and files API checks. */
let lonelyId = '';

async function exampleFiles(name: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const dir = path.join(EXAMPLES, name);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name === '.kiln.yml') continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full)] = await readFile(full, 'utf8');
  }
  return files;
}

/** The example's build, in kiln/bookworm-build (it has the compiler: builds get no network). */
function manifest(options: { make?: string; vars?: string[]; policy?: string } = {}): string {
  const make = options.make ?? '';
  return [
    'image: kiln/bookworm-build:latest',
    'package:',
    '  maintainer: Greet Maintainers <greet@example.org>',
    'environment:',
    '  vars:',
    '    - CFLAGS=-O2 -Wall',
    ...(options.vars ?? []).map((v) => `    - ${v}`),
    'stages: [build]',
    'build:',
    `  script: ['make ${make}']`,
    'install:',
    `  script: ['make install PREFIX=/usr DESTDIR="$DESTDIR" ${make}']`,
    ...(options.policy ? ['policy:', `  ${options.policy}`] : []),
    '',
  ].join('\n');
}

/** Pushes a release branch and builds it; resolves to the finished build's id and report. */
async function build(
  name: string,
  version: string,
  files: Record<string, string>,
): Promise<{ id: string; status: string; report: BuildReport; failedStage: string | null }> {
  let repo = repos.get(name);
  if (!repo) {
    repo = await createTestRepo({ root, name });
    repos.set(name, repo);
  }
  const branch = `${name}-${version}`;
  const commit = await repo.pushBranch(branch, files);
  await publishJob(vhost.url, { repo: repo.bare, branch });
  const row = await waitUntil(
    async () => {
      const [found] = await builds(db.pool, 'commit = $1', [commit]);
      return found && ['succeeded', 'failed', 'errored'].includes(found.status) && found;
    },
    `the ${branch} build`,
    240_000,
  );
  const { rows } = await db.pool.query<{ report: BuildReport }>('SELECT report FROM builds WHERE id = $1', [row.id]);
  return { id: row.id, status: row.status, report: rows[0]!.report, failedStage: row.failed_stage };
}

async function fileRow(buildId: string, file: string) {
  const { rows } = await db.pool.query(
    `SELECT soname, needed, runpath, pie, relro, bind_now, nx_stack, stripped, setuid, gnu_build_id, machine
       FROM package_files WHERE build_id = $1 AND path = $2`,
    [buildId, file],
  );
  return rows[0];
}

beforeAll(async () => {
  db = await createTestDatabase('kiln_intel');
  vhost = await createTestVhost('kiln-intel');
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-intel-repos-'));
  smtp = await createSmtpSink();
  // Rebuilds of dependents are on for libhello's repository only: libgreet's builds queue nothing.
  agent = await startTestAgent({
    db,
    amqpUrl: vhost.url,
    agentId: 'intel-a',
    smtpUrl: smtp.url,
    // libgreet's repository also asked for success emails: they carry what changed.
    env: {
      KILN_REBUILD_DEPENDENTS: path.join(root, 'libhello.git'),
      KILN_NOTIFY_SUCCESS_REPOS: path.join(root, 'libgreet.git'),
    },
  });
});
afterAll(async () => {
  await agent?.[Symbol.asyncDispose]();
  for (const repo of repos.values()) await repo[Symbol.asyncDispose]();
  await smtp?.[Symbol.asyncDispose]();
  await vhost?.[Symbol.asyncDispose]();
  await db?.[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

describe('libgreet, an app that links it, hotfixes and a new SONAME', () => {
  let libgreet: Record<string, string>;
  let first: Awaited<ReturnType<typeof build>>;
  let hotfix: Awaited<ReturnType<typeof build>>;

  beforeAll(async () => {
    libgreet = await exampleFiles('libgreet');
  });

  test('libgreet 1.2.0: its library provides libgreet.so.1, with the facts the compiler made', async () => {
    first = await build('libgreet', '1.2.0', { ...libgreet, '.kiln.yml': manifest() });
    expect(first.status).toBe('succeeded');
    expect(first.report.analysis).toMatchObject({ provides: ['libgreet.so.1'], unresolved: [], findings: [] });
    const lib = first.report.install?.files.find((f) => f.path === '/usr/lib/libgreet.so.1.2.0');
    expect(lib).toMatchObject({ kind: 'shared-library', soname: 'libgreet.so.1', relro: 'partial', bindNow: false });
    expect(await fileRow(first.id, '/usr/lib/libgreet.so.1.2.0')).toMatchObject({
      soname: 'libgreet.so.1',
      needed: ['libc.so.6'],
      pie: null,
      relro: 'partial',
      bind_now: false,
      nx_stack: true,
      stripped: false,
      setuid: false,
      gnu_build_id: expect.stringMatching(/^[0-9a-f]{40}$/),
      machine: 'x86-64',
    });
    // The build image's libraries were read once, by digest.
    const images = await db.pool.query<{ sonames: string[] }>('SELECT sonames FROM image_libraries');
    expect(images.rows).toHaveLength(1);
    expect(images.rows[0]?.sonames).toEqual(expect.arrayContaining(['libc.so.6', 'libz.so.1']));
  });

  test('app: its need of libgreet.so.1 resolves to the libgreet package, libc.so.6 to the image', async () => {
    const app = await build('app', '1.0.0', { ...(await exampleFiles('app')), '.kiln.yml': manifest() });
    expect(app.status).toBe('succeeded');
    const exe = app.report.install?.files.find((f) => f.path === '/usr/bin/greet-app');
    expect(exe).toMatchObject({ kind: 'executable', linkage: 'dynamic', pie: true });
    expect(exe?.needed).toEqual(expect.arrayContaining(['libgreet.so.1', 'libc.so.6']));
    expect(app.report.analysis).toMatchObject({ provides: [], unresolved: [] });
  });

  test('a hotfix changing one source file: the diff names exactly the changed files, with sizes and hashes', async () => {
    const greet = libgreet['src/greet.c']!.replace('"hello, %s"', '"hello, %s!"');
    expect(greet).not.toBe(libgreet['src/greet.c']);
    hotfix = await build('libgreet', '1.2.0', { ...libgreet, 'src/greet.c': greet, '.kiln.yml': manifest() });
    expect(hotfix.status).toBe('succeeded');
    const { rows } = await db.pool.query<{ against_id: string; diff: BuildDiff }>(
      'SELECT against_id, diff FROM build_diffs WHERE build_id = $1',
      [hotfix.id],
    );
    const diff = rows[0]!.diff;
    expect(rows[0]?.against_id).toBe(first.id);
    expect(diff).toMatchObject({ basis: 'hotfix', abiChange: false, hardeningLost: [] });
    expect(diff.files.added).toEqual([]);
    expect(diff.files.removed).toEqual([]);
    expect(diff.files.changed.map((f) => f.path)).toEqual(['/usr/lib/libgreet.a', '/usr/lib/libgreet.so.1.2.0']);
    const before = first.report.install!.files.find((f) => f.path === '/usr/lib/libgreet.so.1.2.0')!;
    const after = hotfix.report.install!.files.find((f) => f.path === '/usr/lib/libgreet.so.1.2.0')!;
    expect(diff.files.changed[1]).toEqual({
      path: before.path,
      sizeBefore: before.size,
      sizeAfter: after.size,
      sha256Before: before.sha256,
      sha256After: after.sha256,
    });
    expect(hotfix.report.analysis?.changes).toMatchObject({ against: first.id, changed: 2, added: 0, removed: 0 });

    // `kiln diff` shows the stored diff; with two builds it compares them now.
    let out = '';
    const io = {
      out: (t: string) => void (out += t),
      err: () => undefined,
      isTty: false,
      env: { KILN_DATABASE_URL: db.url },
    };
    expect(await runCli(['node', 'kiln', 'diff', hotfix.id, '--json'], io)).toBe(0);
    expect(JSON.parse(out)).toEqual(diff);
    out = '';
    expect(await runCli(['node', 'kiln', 'diff', hotfix.id.slice(0, 8), first.id], io)).toBe(0);
    expect(out).toContain('files: 2 changed, 0 added, 0 removed');
    expect(out).toContain(`~ /usr/lib/libgreet.so.1.2.0  ${before.size} -> ${after.size} bytes`);

    const mail = await waitUntil(
      async () => smtp.messages.find((m) => m.text.includes(`Build:`) && m.text.includes(hotfix.id)),
      'the success email of the hotfix',
    );
    expect(mail.text).toContain(`Changes: 2 changed, 0 added, 0 removed`);
  });

  test('-z norelro: with `policy: hardening: error` the build fails naming the file; by default it warns', async () => {
    const norelro = { ...libgreet, 'src/greet.c': libgreet['src/greet.c']!.replace('"hello, %s"', '"hello, %s!"') };
    const failed = await build('libgreet', '1.2.0', {
      ...norelro,
      '.kiln.yml': manifest({ vars: ['LDFLAGS=-Wl,-z,norelro'], policy: 'hardening: error' }),
    });
    expect(failed).toMatchObject({ status: 'failed', failedStage: 'policy' });
    expect(failed.report.error).toContain('/usr/lib/libgreet.so.1.2.0 lost RELRO (partial → none)');
    const failureMail = await waitUntil(
      async () => smtp.messages.find((m) => m.text.includes(failed.id) && /fail/i.test(m.subject)),
      'the failure email',
    );
    expect(failureMail.text).toContain('Policy (fail): /usr/lib/libgreet.so.1.2.0 lost RELRO (partial → none)');
    expect(failureMail.text).toMatch(/Changes: 1 changed, 0 added, 0 removed .* against hotfix build/);

    const warned = await build('libgreet', '1.2.0', {
      ...norelro,
      '.kiln.yml': manifest({ vars: ['LDFLAGS=-Wl,-z,norelro'] }),
    });
    expect(warned.status).toBe('succeeded');
    expect(warned.report.analysis?.findings).toEqual([
      {
        rule: 'hardening',
        level: 'warn',
        path: '/usr/lib/libgreet.so.1.2.0',
        message: '/usr/lib/libgreet.so.1.2.0 lost RELRO (partial → none)',
      },
    ]);
    expect(await fileRow(warned.id, '/usr/lib/libgreet.so.1.2.0')).toMatchObject({ relro: 'none' });
  });

  test('libgreet 2.0.0 with a new SONAME is an ABI change against the previous version', async () => {
    const v2 = await build('libgreet', '2.0.0', {
      ...libgreet,
      '.kiln.yml': manifest({ make: 'VERSION=2.0.0 SONAME=libgreet.so.2' }),
    });
    expect(v2.status).toBe('succeeded');
    expect(v2.report.analysis?.changes).toMatchObject({
      basis: 'previous-version',
      abiChange: true,
      providesAdded: ['libgreet.so.2'],
      providesRemoved: ['libgreet.so.1'],
    });
    await using server = await startTestServer({ db, amqpUrl: vhost.url });
    const response = await fetch(`${server.url}/api/v1/builds/${v2.id}/diff`);
    expect(response.status).toBe(200);
    const diff = (await response.json()) as BuildDiff;
    expect(diff.provides).toEqual({ added: ['libgreet.so.2'], removed: ['libgreet.so.1'] });
    expect(diff.files.added.map((f) => f.path)).toContain('/usr/lib/libgreet.so.2.0.0');
    const chosen = (await (
      await fetch(`${server.url}/api/v1/builds/${v2.id}/diff?against=${first.id}`)
    ).json()) as BuildDiff;
    expect(chosen).toMatchObject({ basis: 'chosen', against: first.id });
    expect((await fetch(`${server.url}/api/v1/builds/${v2.id}/diff?against=nope`)).status).toBe(400);
    // Rebuilds are off for libgreet's repository: app, which needs libgreet.so.1, is not rebuilt.
    const queued = await db.pool.query("SELECT id FROM builds WHERE trigger = 'dependency'");
    expect(queued.rows).toEqual([]);
  });
});

describe('rebuilding dependents by real linkage (on for libhello)', () => {
  test('libhello 2.0.0 drops libhello.so.1: hello-app, which needs it, is rebuilt once, naming the build', async () => {
    const libgreet = await exampleFiles('libgreet');
    const app = await exampleFiles('app');
    const v1 = await build('libhello', '1.0.0', {
      ...libgreet,
      '.kiln.yml': manifest({ make: 'SONAME=libhello.so.1' }),
    });
    const user = await build('hello-app', '1.0.0', {
      ...app,
      '.kiln.yml': manifest({ make: 'GREET_SONAME=libhello.so.1' }),
    });
    expect([v1.status, user.status]).toEqual(['succeeded', 'succeeded']);
    expect(user.report.analysis?.unresolved).toEqual([]);

    // The crawler's outbox relay publishes what the agent queued.
    const logger = createLogger({ level: 'silent', pretty: false });
    const publisher = new AmqpJobPublisher({
      connect: () => connectAmqp(vhost.url),
      queue: 'build_queue',
      deliveryLimit: 5,
      logger,
    });
    const relay = new OutboxRelay({ pool: db.pool, publisher, logger, sweepMs: 200 });
    relay.start();
    try {
      const v2 = await build('libhello', '2.0.0', {
        ...libgreet,
        '.kiln.yml': manifest({ make: 'VERSION=2.0.0 SONAME=libhello.so.2' }),
      });
      expect(v2.status).toBe('succeeded');
      const rebuilt = await waitUntil(
        async () => {
          const { rows } = await db.pool.query<{
            id: string;
            status: string;
            triggered_by: string;
            package_name: string;
          }>("SELECT id, status, triggered_by, package_name FROM builds WHERE trigger = 'dependency'");
          return rows.length > 0 && rows.every((r) => ['succeeded', 'failed', 'errored'].includes(r.status)) && rows;
        },
        'the rebuild of hello-app',
        240_000,
      );
      expect(rebuilt).toEqual([
        { id: expect.any(String), status: 'succeeded', triggered_by: v2.id, package_name: 'hello-app' },
      ]);
      // Its rebuild changed nothing it provides: nothing more is queued (a cycle would end here too).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const all = await db.pool.query("SELECT id FROM builds WHERE trigger = 'dependency'");
      expect(all.rows).toHaveLength(1);
    } finally {
      await relay.close();
      await publisher.close();
    }
  });
});

describe('needs nothing provides', () => {
  test('an executable needing a library no package or image provides is reported, the library named', async () => {
    const app = await exampleFiles('app');
    const lonely = await build('lonely', '1.0.0', {
      ...app,
      '.kiln.yml': manifest({ make: 'GREET_SONAME=libmissing.so.7' }),
    });
    expect(lonely.status).toBe('succeeded');
    lonelyId = lonely.id;
    expect(lonely.report.analysis?.unresolved).toEqual([{ soname: 'libmissing.so.7', files: ['/usr/bin/greet-app'] }]);
    expect(lonely.report.analysis?.findings[0]).toMatchObject({ rule: 'needs', level: 'warn' });
    const { rows } = await db.pool.query('SELECT unresolved_needs FROM builds WHERE id = $1', [lonely.id]);
    expect(rows[0]?.unresolved_needs).toEqual([{ soname: 'libmissing.so.7', files: ['/usr/bin/greet-app'] }]);
    let out = '';
    const io = {
      out: (t: string) => void (out += t),
      err: () => undefined,
      isTty: false,
      env: { KILN_DATABASE_URL: db.url },
    };
    expect(await runCli(['node', 'kiln', 'status', lonely.id], io)).toBe(0);
    expect(out).toContain('libmissing.so.7  needed by /usr/bin/greet-app');

    const strict = await build('lonely', '1.0.1', {
      ...app,
      '.kiln.yml': manifest({ make: 'GREET_SONAME=libmissing.so.7', policy: 'needs: fail' }),
    });
    expect(strict).toMatchObject({ status: 'failed', failedStage: 'policy' });
    expect(strict.report.error).toContain('needs libmissing.so.7');
  });
});

interface ApiFile {
  path: string;
  needed: string[] | null;
  relro: string | null;
  buildId: string | null;
}
interface SearchBody {
  by: string;
  query: string;
  hits: Array<{ package: { name: string; version: string }; buildId: string; file: ApiFile }>;
}
interface OpenApiDoc {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
}

describe('static executables: what they embed; the files API carries the ELF facts', () => {
  const STATIC_MAKEFILE = [
    'PREFIX ?= /usr/local',
    'all: hello-static',
    'hello-static: hello.c',
    '\t$(CC) $(CFLAGS) -static -o $@ hello.c',
    'install: all',
    '\tinstall -d $(DESTDIR)$(PREFIX)/bin',
    '\tinstall -m 0755 hello-static $(DESTDIR)$(PREFIX)/bin/',
    '.PHONY: all install',
    '',
  ].join('\n');

  test("a static executable records the compiler image's library packages; search ?embeds= finds it", async () => {
    const built = await build('hello-static', '1.0.0', {
      Makefile: STATIC_MAKEFILE,
      'hello.c': '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n',
      '.kiln.yml': manifest(),
    });
    expect(built.status).toBe('succeeded');
    const exe = built.report.install?.files.find((f) => f.path === '/usr/bin/hello-static');
    expect(exe).toMatchObject({ kind: 'executable', linkage: 'static' });
    const embedded = built.report.analysis?.staticBuiltUsing ?? [];
    const names = embedded.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['libc6', 'libc6-dev']));
    expect(names).not.toContain('gcc');
    const { rows } = await db.pool.query<{ static_built_using: unknown }>(
      'SELECT static_built_using FROM builds WHERE id = $1',
      [built.id],
    );
    expect(rows[0]?.static_built_using).toEqual(embedded);
    // Read once per image digest: the dynamic builds before did not read it at all.
    const images = await db.pool.query('SELECT image_digest FROM image_packages');
    expect(images.rows).toHaveLength(1);
    const libgreet = await db.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM builds WHERE static_built_using IS NOT NULL AND package_name <> 'hello-static'",
    );
    expect(libgreet.rows[0]?.n).toBe('0');

    let out = '';
    const io = {
      out: (t: string) => void (out += t),
      err: () => undefined,
      isTty: false,
      env: { KILN_DATABASE_URL: db.url },
    };
    expect(await runCli(['node', 'kiln', 'status', built.id], io)).toBe(0);
    expect(out).toMatch(/embeds +.*libc6-dev \(= [^)]+\).*\(static executables\)/);

    await using server = await startTestServer({ db, amqpUrl: vhost.url });
    const search = async (query: string) => {
      const response = await fetch(`${server.url}/api/v1/search?${query}`);
      return { status: response.status, body: (await response.json()) as SearchBody };
    };
    const embeds = await search('embeds=libc6-dev');
    expect(embeds.status).toBe(200);
    expect(embeds.body).toMatchObject({ by: 'embeds', query: 'libc6-dev' });
    expect(embeds.body.hits.map((h) => [h.package.name, h.buildId, h.file.path])).toEqual([
      ['hello-static', built.id, '/usr/bin/hello-static'],
    ]);
    expect((await search('embeds=libgreet-nothing')).body.hits).toEqual([]);
    const bad = await search('embeds=Not%20a%20package');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('embeds');

    // GET /builds/{id}/files: the ELF facts, as recorded (static: no PIE, no needs).
    const files = (await (await fetch(`${server.url}/api/v1/builds/${built.id}/files`)).json()) as { files: ApiFile[] };
    expect(files.files).toEqual([
      {
        path: '/usr/bin/hello-static',
        size: exe!.size,
        mode: exe!.mode,
        sha256: exe!.sha256,
        kind: 'executable',
        linkage: 'static',
        needed: null,
        soname: null,
        target: null,
        runpath: null,
        pie: false,
        relro: exe!.relro,
        bindNow: exe!.bindNow,
        nxStack: true,
        stripped: false,
        setuid: false,
        setgid: false,
        buildId: exe!.buildId,
        machine: 'x86-64',
      },
    ]);
    expect(files.files[0]!.buildId).toMatch(/^[0-9a-f]{40}$/);
    expect(['none', 'partial', 'full']).toContain(files.files[0]!.relro);

    // Who needs libmissing.so.7 (package_needs): the lonely app, with its facts.
    const needs = await search('needs=libmissing.so.7');
    expect(needs.body.hits).toHaveLength(1);
    expect(needs.body.hits[0]).toMatchObject({
      package: { name: 'lonely', version: '1.0.0' },
      buildId: lonelyId,
      file: { path: '/usr/bin/greet-app', kind: 'executable', pie: true, nxStack: true, setuid: false },
    });
    expect(needs.body.hits[0]!.file.needed).toEqual(expect.arrayContaining(['libmissing.so.7', 'libc.so.6']));
    expect(needs.body.hits[0]!.file.buildId).toMatch(/^[0-9a-f]{40}$/);
    const spec = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as OpenApiDoc;
    expect(JSON.stringify(spec.paths['/api/v1/search'])).toContain('embeds');
    expect(Object.keys(spec.components.schemas.InstalledFile!.properties)).toEqual(
      expect.arrayContaining(['runpath', 'pie', 'relro', 'bindNow', 'nxStack', 'stripped', 'setuid', 'buildId']),
    );
  });
});
