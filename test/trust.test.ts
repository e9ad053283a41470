import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import {
  generateSigningKey,
  IN_TOTO_PAYLOAD_TYPE,
  loadSigner,
  signEnvelope,
  type DsseEnvelope,
  type KilnProvenance,
} from '@kiln/agent';
import { builds, publishJob, startTestAgent, waitUntil } from './helpers/agent-fixtures.js';
import { kilnCommand } from './helpers/cli.js';
import { startTestServer } from './helpers/server-fixtures.js';
import {
  createTestDatabase,
  createTestRepo,
  createTestVhost,
  git,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';

// One real build of Debian's zlib through a real agent (RabbitMQ, PostgreSQL,
// git, Docker) with the farm's signing key, checked from every side: the
// database, the files next to the artifact, the HTTP API and `kiln verify`.
jest.setTimeout(600_000);
const run = promisify(execFile);
const ZLIB = path.resolve('test/fixtures/engine/zlib_1.2.13.dfsg.orig.tar.bz2');
const COMMIT_TIME = 1_600_000_000;

const ZLIB_MANIFEST = `image: kiln/bookworm-build:latest
verify: [reproducible]
stages: [build]
build:
  script:
    - echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
    - tar xjf zlib.tar.bz2
    - cd zlib-1.2.13.dfsg && ./configure --prefix=/usr && make -j2
install:
  script: ['cd zlib-1.2.13.dfsg && make install DESTDIR="$DESTDIR"']
`;

let db: TestDatabase;
let vhost: TestVhost;
let repo: TestRepo;
let dir: string;
let keyFile: string;
let publicKeyFile: string;
let otherKeyFile: string;
let agent: Awaited<ReturnType<typeof startTestAgent>>;
let zlib: { id: string; commit: string; artifact: string };
let stamp: { id: string };

// Embeds __DATE__ and __TIME__ (which GCC takes from SOURCE_DATE_EPOCH, so they agree) and the path it was
// compiled at (which the check varies, so it does not).
const STAMP_MANIFEST = `image: kiln/bookworm-build:latest
verify: [reproducible]
stages: [build]
build:
  script: ['gcc -O2 -o stamp "$PWD/stamp.c"']
install:
  script: ['install -D -m755 stamp "$DESTDIR/usr/bin/stamp"', 'install -D -m644 stamp.c "$DESTDIR/usr/share/doc/stamp/stamp.c"']
`;
const STAMP_C =
  '#include <stdio.h>\nint main(void) { puts("built " __DATE__ " " __TIME__ " from " __FILE__); return 0; }\n';

/** `kiln <args>` as a process: its exit status, stdout and stderr. */
async function kiln(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [node, argv] = kilnCommand(...args);
  try {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', KILN_DATABASE_URL: db.url };
    const { stdout, stderr } = await run(node, argv, { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  db = await createTestDatabase('kiln_trust');
  vhost = await createTestVhost('kiln-trust');
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-trust-'));
  keyFile = path.join(dir, 'keys', 'signing-key.asc');
  otherKeyFile = path.join(dir, 'keys', 'other-key.asc');
  publicKeyFile = path.join(dir, 'repo-key.asc');
  const made = await generateSigningKey(keyFile, { name: 'Kiln test farm', email: 'farm@example.org' });
  await writeFile(publicKeyFile, made.publicKey);
  await generateSigningKey(otherKeyFile, { name: 'Someone else', email: 'else@example.org' });

  // The release branch, committed at a known time (the build's SOURCE_DATE_EPOCH).
  repo = await createTestRepo({ root: dir, name: 'zlib' });
  await git(repo.work, 'checkout', '--quiet', '-b', 'zlib-1.2.13');
  await copyFile(ZLIB, path.join(repo.work, 'zlib.tar.bz2'));
  await writeFile(path.join(repo.work, '.kiln.yml'), ZLIB_MANIFEST);
  await git(repo.work, 'add', '-A');
  await run('git', ['commit', '--quiet', '-m', 'zlib 1.2.13'], {
    cwd: repo.work,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'M',
      GIT_AUTHOR_EMAIL: 'm@example.org',
      GIT_COMMITTER_NAME: 'M',
      GIT_COMMITTER_EMAIL: 'm@example.org',
      GIT_COMMITTER_DATE: `@${COMMIT_TIME} +0000`,
    },
  });
  await git(repo.work, 'push', '--quiet', 'origin', 'zlib-1.2.13');
  const commit = await git(repo.work, 'rev-parse', 'HEAD');

  agent = await startTestAgent({
    db,
    amqpUrl: vhost.url,
    agentId: 'trust-agent',
    env: { KILN_SIGNING_KEY: keyFile, KILN_MEMORY_LIMIT: '1g', KILN_CPU_LIMIT: '2' },
  });
  await publishJob(vhost.url, { repo: repo.bare, branch: 'zlib-1.2.13' });
  const [build] = await waitUntil(
    async () => {
      const rows = await builds(db.pool, 'branch = $1', ['zlib-1.2.13']);
      return rows.some((r) => ['succeeded', 'failed', 'errored'].includes(r.status)) && rows;
    },
    'the zlib build',
    480_000,
  );
  expect(build).toMatchObject({ status: 'succeeded', commit, error: null });
  const { rows } = await db.pool.query<{ artifact: string }>('SELECT artifact FROM packages WHERE build_id = $1', [
    build!.id,
  ]);
  zlib = { id: build!.id, commit, artifact: rows[0]!.artifact };

  await repo.pushBranch('stamp-1.0', { '.kiln.yml': STAMP_MANIFEST, 'stamp.c': STAMP_C });
  await publishJob(vhost.url, { repo: repo.bare, branch: 'stamp-1.0' });
  const [built] = await waitUntil(
    async () => {
      const found = await builds(db.pool, 'branch = $1', ['stamp-1.0']);
      return found.some((r) => ['succeeded', 'failed', 'errored'].includes(r.status)) && found;
    },
    'the stamp build',
    300_000,
  );
  expect(built).toMatchObject({ status: 'succeeded', error: null });
  stamp = { id: built!.id };
});

afterAll(async () => {
  await agent?.[Symbol.asyncDispose]();
  await repo?.[Symbol.asyncDispose]();
  await vhost?.[Symbol.asyncDispose]();
  await db?.[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

test("SOURCE_DATE_EPOCH is the commit's time, in the stages and the database", async () => {
  const { rows } = await db.pool.query<{ source_date_epoch: string; log: string }>(
    `SELECT b.source_date_epoch::text, string_agg(l.chunk, '' ORDER BY l.attempt, l.seq) AS log
       FROM builds b JOIN build_logs l ON l.build_id = b.id WHERE b.id = $1 GROUP BY b.id`,
    [zlib.id],
  );
  expect(rows[0]!.source_date_epoch).toBe(String(COMMIT_TIME));
  expect(rows[0]!.log).toContain(`SOURCE_DATE_EPOCH=${COMMIT_TIME}\n`);
});

test("zlib's SBOM validates against CycloneDX 1.6 and lists every installed file with the sha256 the database holds", async () => {
  const stem = zlib.artifact.replace(/\.tar\.(gz|zst)$/, '');
  const written = await readFile(`${stem}.cdx.json`, 'utf8');
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  expect(await validator.validate(written)).toBeNull();

  const sbom = JSON.parse(written) as {
    metadata: { component: { name: string; version: string }; timestamp: string };
    components: Array<{
      type: string;
      name: string;
      hashes?: Array<{ alg: string; content: string }>;
      components?: Array<{ name: string; purl: string; scope: string }>;
    }>;
    dependencies: Array<{ ref: string; dependsOn?: string[] }>;
  };
  expect(sbom.metadata.component).toMatchObject({ name: 'zlib', version: '1.2.13' });
  expect(sbom.metadata.timestamp).toBe(new Date(COMMIT_TIME * 1000).toISOString());
  const { rows } = await db.pool.query<{ path: string; sha256: string | null }>(
    'SELECT path, sha256 FROM package_files WHERE build_id = $1 ORDER BY path',
    [zlib.id],
  );
  expect(rows.length).toBeGreaterThanOrEqual(8);
  const files = sbom.components.filter((c) => c.type === 'file');
  expect(files.map((f) => f.name).sort()).toEqual(rows.map((r) => r.path).sort());
  for (const row of rows) {
    const file = files.find((f) => f.name === row.path)!;
    expect(file.hashes?.find((h) => h.alg === 'SHA-256')?.content).toBe(row.sha256 ?? undefined);
  }
  // libz.so.1.3's DT_NEEDED (libc.so.6) resolves to the compiler image's libc6; gcc was there at build time.
  const needs = sbom.dependencies.find((d) => d.ref === 'needs:libc.so.6');
  expect(needs?.dependsOn).toEqual(['deb:libc6']);
  const image = sbom.components.find((c) => c.type === 'container')!;
  expect(image.components?.find((c) => c.name === 'gcc')).toMatchObject({ scope: 'excluded' });
  expect(image.components?.find((c) => c.name === 'libc6')?.purl).toMatch(/^pkg:deb\/debian\/libc6@.+\?arch=amd64$/);

  // Recorded, and served byte for byte.
  await using server = await startTestServer({ db, amqpUrl: vhost.url });
  const response = await fetch(`${server.url}/api/v1/builds/${zlib.id}/sbom`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/vnd.cyclonedx+json');
  expect(await response.text()).toBe(written);
  const provenance = await fetch(`${server.url}/api/v1/builds/${zlib.id}/provenance`);
  expect(provenance.status).toBe(200);
  expect(await provenance.text()).toBe(await readFile(`${stem}.intoto.jsonl`, 'utf8'));
  const missing = await fetch(`${server.url}/api/v1/builds/00000000-0000-4000-8000-000000000000/sbom`);
  expect(missing.status).toBe(404);
});

test('the provenance is SLSA v1, signed by the farm, about the artifact, and never holds the key', async () => {
  const text = await readFile(zlib.artifact.replace(/\.tar\.(gz|zst)$/, '.intoto.jsonl'), 'utf8');
  const envelope = JSON.parse(text) as DsseEnvelope;
  expect(envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as KilnProvenance;
  const { rows } = await db.pool.query<{ payload_sha256: string }>(
    'SELECT payload_sha256 FROM packages WHERE build_id = $1',
    [zlib.id],
  );
  expect(statement.subject).toEqual([
    { name: path.basename(zlib.artifact), digest: { sha256: rows[0]!.payload_sha256 } },
  ]);
  const definition = statement.predicate.buildDefinition;
  expect(definition.externalParameters).toMatchObject({
    repository: repo.bare,
    commit: zlib.commit,
    ref: 'zlib-1.2.13',
    arch: 'amd64',
  });
  expect(definition.externalParameters.manifest?.path).toBe('.kiln.yml');
  expect(definition.resolvedDependencies.map((d) => d.uri)).toEqual([
    `git+${repo.bare}`,
    'docker-image:kiln/bookworm-build:latest',
    'docker-image:kiln/bookworm-build:latest',
  ]);
  expect(statement.predicate.runDetails).toMatchObject({
    builder: { id: 'kiln-agent:trust-agent' },
    metadata: { invocationId: zlib.id },
  });
  // The private key is nowhere but its file: not in the database, the log or the documents.
  const secret = (await readFile(keyFile, 'utf8')).split('\n').filter((l) => l.length > 40)[1]!;
  const dump = await db.pool.query<{ all: string }>(
    `SELECT (SELECT string_agg(chunk, '') FROM build_logs) || (SELECT string_agg(body, '') FROM build_attestations)
            || (SELECT string_agg(report::text, '') FROM builds) AS all`,
  );
  expect(dump.rows[0]!.all).not.toContain(secret);
  expect(dump.rows[0]!.all).not.toContain('PRIVATE KEY');
});

describe('reproducibility', () => {
  test('zlib is recorded reproducible: built twice, the second time with a varied environment', async () => {
    const { rows } = await db.pool.query<{
      reproducibility: string;
      report: { reproducibility: { variations: Record<string, string> } };
    }>('SELECT reproducibility, report FROM builds WHERE id = $1', [zlib.id]);
    expect(rows[0]!.reproducibility).toBe('reproducible');
    expect(Object.keys(rows[0]!.report.reproducibility.variations).sort()).toEqual(
      ['TZ', 'buildPath', 'clock', 'cpus', 'hostname', 'locale', 'umask'].sort(),
    );
    const status = await kiln('status', zlib.id);
    expect(status.stdout).toContain('reproducible? reproducible\n');
    expect(status.stdout).toContain(`source date ${COMMIT_TIME} `);
  }, 120_000);

  test('a program that embeds its build path is recorded unreproducible, the file named and its difference shown', async () => {
    const { rows } = await db.pool.query<{
      reproducibility: string;
      reproducibility_report: { differing: string[]; differences: Array<{ path: string; diff: string }> };
    }>('SELECT reproducibility, reproducibility_report FROM builds WHERE id = $1', [stamp.id]);
    expect(rows[0]!.reproducibility).toBe('unreproducible');
    const check = rows[0]!.reproducibility_report;
    // Only the binary: the source file it installs is the same bytes in both builds.
    expect(check.differing).toEqual(['/usr/bin/stamp']);
    const diff = check.differences[0]!;
    expect(diff.path).toBe('/usr/bin/stamp');
    // diffoscope's strings of the two binaries: the build path differs, __DATE__ __TIME__ do not.
    expect(diff.diff).toMatch(/^│ -built .* from \/workspace\/stamp\.c$/m);
    expect(diff.diff).toMatch(/^│ \+built .* from \/build\/reproducible-[0-9a-f]+\/source-tree\/stamp\.c$/m);
    expect(diff.diff.length).toBeLessThanOrEqual(16 * 1024);

    await using server = await startTestServer({ db, amqpUrl: vhost.url });
    const api = (await (await fetch(`${server.url}/api/v1/builds/${stamp.id}/reproducibility`)).json()) as {
      status: string;
      differing: string[];
    };
    expect(api).toMatchObject({ status: 'unreproducible', differing: ['/usr/bin/stamp'] });
    const status = await kiln('status', stamp.id);
    expect(status.stdout).toContain('reproducible? unreproducible: 1 file(s) differ\n  /usr/bin/stamp\n');
  }, 120_000);
});

describe('kiln verify', () => {
  test('accepts the fresh artifact with its provenance, repository and commit', async () => {
    const ok = await kiln(
      'verify',
      zlib.artifact,
      '--key',
      publicKeyFile,
      '--repo',
      repo.bare,
      '--commit',
      zlib.commit,
    );
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('verified');
  });

  test('rejects one flipped byte in the artifact', async () => {
    const copy = path.join(dir, path.basename(zlib.artifact));
    const bytes = await readFile(zlib.artifact);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(copy, bytes);
    const provenance = zlib.artifact.replace(/\.tar\.(gz|zst)$/, '.intoto.jsonl');
    const bad = await kiln('verify', copy, '--provenance', provenance, '--key', publicKeyFile);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /the artifact's sha256 is [0-9a-f]{64}, but the provenance is about .*the artifact was changed/,
    );
  });

  test('rejects a provenance signed by another key', async () => {
    const text = await readFile(zlib.artifact.replace(/\.tar\.(gz|zst)$/, '.intoto.jsonl'), 'utf8');
    const envelope = JSON.parse(text) as DsseEnvelope;
    const other = await loadSigner(otherKeyFile);
    const forged = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(envelope.payload, 'base64'), other);
    const file = path.join(dir, 'forged.intoto.jsonl');
    await writeFile(file, `${JSON.stringify(forged)}\n`);
    const bad = await kiln('verify', zlib.artifact, '--provenance', file, '--key', publicKeyFile);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`signed by key ${other.fingerprint}, not by the trusted key`);
  });

  test('rejects a provenance for another commit, and says which', async () => {
    const initial = await git(repo.work, 'rev-parse', 'main');
    const bad = await kiln('verify', zlib.artifact, '--key', publicKeyFile, '--commit', initial);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`was built from commit ${zlib.commit}, not ${initial}`);
    const elsewhere = await kiln('verify', zlib.artifact, '--key', publicKeyFile, '--repo', '/srv/git/other.git');
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(`built from ${repo.bare}, not /srv/git/other.git`);
  });

  test('usage: 2', async () => {
    expect((await kiln('verify')).code).toBe(2);
    expect((await kiln('verify', zlib.artifact, '--key', publicKeyFile, '--commit', 'xyz')).code).toBe(2);
  });
});
