import { jest } from '@jest/globals';
/**
 * The holes an attacker found, against a real agent (RabbitMQ, PostgreSQL,
 * Docker, git, SMTP): a repository taking over another's package, hostile
 * output reaching the operator's terminal, flagged payloads and secrets at rest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoIdentity } from '@kiln/shared';
import { runCli } from '../src/cli/main.js';
import { builds, publishJob, releaseRepo, startTestAgent, waitUntil } from './helpers/agent-fixtures.js';
import {
  createSmtpSink,
  createTestDatabase,
  createTestVhost,
  type SmtpSink,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';

jest.setTimeout(180_000);

let db: TestDatabase;
let vhost: TestVhost;
let smtp: SmtpSink;
let root: string;
const repos: TestRepo[] = [];

beforeAll(async () => {
  db = await createTestDatabase('kiln_security');
  vhost = await createTestVhost('kiln-security');
  smtp = await createSmtpSink();
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-security-repos-'));
});
afterAll(async () => {
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await smtp[Symbol.asyncDispose]();
  await vhost[Symbol.asyncDispose]();
  await db[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

async function release(name: string, version: string, manifest: string, dir = root) {
  const made = await releaseRepo(name, version, manifest, dir);
  repos.push(made.repo);
  return made;
}

const FINISHED = ['succeeded', 'failed', 'errored', 'cancelled'];

async function buildOf(repo: string, branch: string) {
  await publishJob(vhost.url, { repo, branch });
  const [build] = await waitUntil(async () => {
    const rows = await builds(db.pool, 'repo = $1 AND branch = $2', [repo, branch]);
    return rows.length > 0 && rows.every((r) => FINISHED.includes(r.status)) && rows;
  }, `the build of ${branch}`);
  return build!;
}

function capture(isTty = false) {
  let out = '';
  let err = '';
  return {
    io: {
      out: (t: string) => void (out += t),
      err: (t: string) => void (err += t),
      isTty,
      env: { KILN_DATABASE_URL: db.url },
    },
    out: () => out,
    err: () => err,
  };
}

function library(options: { name?: string; version?: string; maintainer: string; content: string }): string {
  return [
    'image: kiln/busybox:latest',
    'package:',
    ...(options.name ? [`  name: ${options.name}`, `  version: ${options.version}`] : []),
    `  maintainer: ${options.maintainer}`,
    'stages: []',
    'install:',
    '  script:',
    `    - mkdir -p "$DESTDIR/usr/lib" && printf ${options.content} > "$DESTDIR/usr/lib/libgreet.so.1.2.0"`,
    '',
  ].join('\n');
}

describe('package ownership', () => {
  it('refuses a repository that claims another repository’s package, by package.name or by branch name, until an operator shares it', async () => {
    await using _agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'sec-a', smtpUrl: smtp.url });
    const owner = await release('libgreet', '1.2.0', library({ maintainer: 'owner@example.org', content: 'genuine' }));
    const good = await buildOf(owner.repo.bare, owner.branch);
    expect(good.status).toBe('succeeded');
    const before = await db.pool.query('SELECT build_id::text AS id, payload_sha256 FROM packages WHERE name = $1', [
      'libgreet',
    ]);
    expect(before.rows).toEqual([{ id: good.id, payload_sha256: expect.any(String) }]);

    // The attack as it was found: another repository, its manifest naming libgreet 1.2.0.
    const hijack = await release(
      't-hijack',
      '9.9',
      library({ name: 'libgreet', version: '1.2.0', maintainer: 'mallory@example.org', content: 'trojan!' }),
    );
    const refused = await buildOf(hijack.repo.bare, hijack.branch);
    expect(refused).toMatchObject({ status: 'errored', failed_stage: 'ownership' });
    expect(refused.error).toContain(`package "libgreet" belongs to ${repoIdentity(owner.repo.bare)};`);
    // And by branch name alone, from a repository elsewhere called libgreet too.
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'kiln-security-other-'));
    const byBranch = await release(
      'libgreet',
      '1.2.1',
      library({ maintainer: 'mallory@example.org', content: 'x' }),
      elsewhere,
    );
    expect(await buildOf(byBranch.repo.bare, byBranch.branch)).toMatchObject({
      status: 'errored',
      failed_stage: 'ownership',
    });

    const after = await db.pool.query('SELECT build_id::text AS id, payload_sha256 FROM packages WHERE name = $1', [
      'libgreet',
    ]);
    expect(after.rows).toEqual(before.rows);
    const files = await db.pool.query('SELECT count(*)::int AS n FROM package_files WHERE build_id = $1', [refused.id]);
    expect(files.rows[0]?.n).toBe(0);
    // The refused build's maintainer hears of it.
    await smtp.waitForMessages(1);
    const mail = smtp.messages.find((m) => m.envelopeTo.includes('mallory@example.org') && m.text.includes('t-hijack'));
    expect(mail?.text).toContain('belongs to');

    // An operator shares the name: the same repository now builds it.
    const share = capture();
    expect(await runCli(['node', 'kiln', 'owner', 'add', 'libgreet', hijack.repo.bare], share.io)).toBe(0);
    const list = capture();
    expect(await runCli(['node', 'kiln', 'owner', 'list', 'libgreet', '--json'], list.io)).toBe(0);
    expect(
      (JSON.parse(list.out()) as Array<{ repo: string; grantedBy: string }>).map((o) => [o.repo, o.grantedBy]),
    ).toEqual([
      [repoIdentity(owner.repo.bare), 'first-build'],
      [repoIdentity(hijack.repo.bare), 'operator'],
    ]);
    await hijack.repo.pushBranch('t-hijack-9.10', {
      '.kiln.yml': library({
        name: 'libgreet',
        version: '1.2.0',
        maintainer: 'mallory@example.org',
        content: 'shared',
      }),
    });
    expect(await buildOf(hijack.repo.bare, 't-hijack-9.10')).toMatchObject({ status: 'succeeded' });
    await rm(elsewhere, { recursive: true, force: true });
  });
});

describe('what reaches the operator and the database', () => {
  it('neutralises escape sequences from logs and file names, flags the payload, and stores no secret value', async () => {
    await using _agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'sec-b', smtpUrl: smtp.url });
    const secret = 'sup3r-s3cret-t0ken-value';
    const manifest = (policy: string) =>
      [
        'image: kiln/busybox:latest',
        'package:',
        '  maintainer: ops@example.org',
        `policy: {content: ${policy}}`,
        'environment:',
        `  vars: [API_TOKEN=${secret}]`,
        'stages: [build]',
        'build:',
        '  script:',
        // Window title, clear screen and an OSC 52 clipboard write, and the secret.
        `    - ${JSON.stringify("printf '\\033]0;pwned\\007\\033[2J\\033]52;c;ZWNobyBwd25lZA==\\007done\\n'")}`,
        `    - echo "token is $API_TOKEN"`,
        'install:',
        '  script:',
        `    - ${JSON.stringify('mkdir -p "$DESTDIR/usr/bin" && cp /bin/busybox "$DESTDIR/usr/bin/rootsh" && chmod 4755 "$DESTDIR/usr/bin/rootsh"')}`,
        `    - ${JSON.stringify(`touch "$DESTDIR/usr/bin/evil$(printf '\\nname\\033[2J')"`)}`,
        '',
      ].join('\n');
    // Flags warn by default: the build succeeds and its files are listed.
    const { repo, branch } = await release('termtest', '1.0', manifest('warn'));
    const build = await buildOf(repo.bare, branch);
    expect(build.status).toBe('succeeded');

    const logs = capture();
    expect(await runCli(['node', 'kiln', 'logs', build.id], logs.io)).toBe(0);
    expect(logs.out()).toContain('^[]0;pwned^G^[[2J^[]52;c;ZWNobyBwd25lZA==^Gdone');
    expect(logs.out()).not.toContain('\u001b');
    expect(logs.out()).toContain('token is ***');

    const status = capture(true);
    expect(await runCli(['node', 'kiln', 'status', build.id], status.io)).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(status.out().replace(/\u001b\[[0-9;]*m/g, '')).not.toContain('\u001b');
    expect(status.out()).toContain('/usr/bin/rootsh  setuid');
    expect(status.out()).toContain('/usr/bin/evil\\nname^[[2J  ');

    const flags = await db.pool.query<{ policy_flags: Array<{ path: string; rule: string }> }>(
      'SELECT policy_flags FROM builds WHERE id = $1',
      [build.id],
    );
    expect(flags.rows[0]?.policy_flags).toContainEqual(
      expect.objectContaining({ path: '/usr/bin/rootsh', rule: 'setuid' }),
    );
    // With policy fail, the build fails and its maintainer's email lists the flags.
    await repo.pushBranch('termtest-1.1', { '.kiln.yml': manifest('fail') });
    const strict = await buildOf(repo.bare, 'termtest-1.1');
    expect(strict.status).toBe('failed');
    expect(strict.error).toMatch(/content policy flagged 1 file\(s\): \/usr\/bin\/rootsh \(setuid\)/);
    const mails = await waitUntil(
      async () => smtp.messages.filter((m) => m.envelopeTo.includes('ops@example.org')).length > 0 && smtp.messages,
      'the failure email',
    );
    const mail = mails.find((m) => m.envelopeTo.includes('ops@example.org'));
    expect(mail?.text).toContain('The content policy flagged:');
    expect(mail?.text).toContain('/usr/bin/rootsh: is setuid');

    // No table holds the secret value: not the manifest, the report, the commands, the log or the email.
    const tables = await db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    expect(tables.rows.length).toBeGreaterThan(8);
    for (const { table_name } of tables.rows) {
      const found = await db.pool.query(`SELECT count(*)::int AS n FROM "${table_name}" t WHERE t::text LIKE $1`, [
        `%${secret}%`,
      ]);
      expect([table_name, found.rows[0]?.n]).toEqual([table_name, 0]);
    }
    const stored = await db.pool.query<{ manifest: { environment: { vars: Array<{ value: string }> } } }>(
      'SELECT manifest FROM builds WHERE id = $1',
      [build.id],
    );
    expect(stored.rows[0]?.manifest.environment.vars).toEqual([{ name: 'API_TOKEN', value: '***' }]);
    expect(mail?.text).not.toContain(secret);
  });
});
