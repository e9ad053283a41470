import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadMigrations, migrate, migrationStatus } from '@kiln/shared';
import { kilnCommand } from './helpers/cli.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/index.js';

const run = promisify(execFile);

async function schemaOf(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ c: string }>(
    `SELECT table_name || '.' || column_name || ':' || data_type AS c
       FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`,
  );
  return rows.map((r) => r.c);
}

describe('migrations', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createEmptyDatabase('kiln_migrate');
  });
  afterEach(async () => {
    await db[Symbol.asyncDispose]();
  });

  test('creates every table of the design, and a second run changes nothing', async () => {
    const all = await loadMigrations();
    expect(await migrate(db.pool)).toEqual(all.map((m) => m.name));
    const first = await schemaOf(db);
    for (const table of [
      'builds',
      'build_stages',
      'build_commands',
      'build_logs',
      'packages',
      'package_files',
      'repo_refs',
      'notifications',
    ]) {
      expect(first.some((c) => c.startsWith(`${table}.`))).toBe(true);
    }
    expect(await migrate(db.pool)).toEqual([]);
    expect(await schemaOf(db)).toEqual(first);
    expect(await migrationStatus(db.pool)).toEqual({ applied: all.map((m) => m.version), pending: [] });
  });

  test('two migrators at once leave one correct schema', async () => {
    const results = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    const all = await loadMigrations();
    // Exactly one of them applied everything; the others found nothing to do.
    expect(results.filter((r) => r.length > 0)).toEqual([all.map((m) => m.name)]);
    const ledger = await db.pool.query('SELECT version FROM kiln_migrations');
    expect(ledger.rowCount).toBe(all.length);
  });

  test('`kiln migrate` from two processes at once', async () => {
    const env = { ...process.env, KILN_DATABASE_URL: db.url };
    const [node, cli] = kilnCommand('migrate', '--json');
    const [a, b] = await Promise.all([run(node, cli, { env }), run(node, cli, { env })]);
    const applied = [a, b].map((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied.length);
    expect(applied.sort()).toEqual([0, (await loadMigrations()).length]);
    const again = await run(node, cli, { env });
    expect(JSON.parse(again.stdout)).toEqual({ applied: [] });
  }, 60_000);

  test("013: builds and packages from before arches were recorded are the host's; a package is (name, version, arch)", async () => {
    const all = await loadMigrations();
    await migrate(
      db.pool,
      all.filter((m) => m.version < 13),
    );
    const done = '7d444840-9dc0-41d8-8c5b-5a8f5e5f5e01';
    const waiting = '7d444840-9dc0-41d8-8c5b-5a8f5e5f5e02';
    await db.pool.query(
      `INSERT INTO builds (id, repo, package_name, package_version, status) VALUES
         ($1, '/srv/git/zlib.git', 'zlib', '1.3.1', 'succeeded'), ($2, '/srv/git/zlib.git', 'zlib', '1.3.2', 'queued')`,
      [done, waiting],
    );
    await db.pool.query(
      `INSERT INTO packages (name, version, build_id, installed_size, file_count) VALUES ('zlib', '1.3.1', $1, 10, 1)`,
      [done],
    );
    expect(await migrate(db.pool, all, { hostArch: 'riscv64' })).toEqual(
      all.filter((m) => m.version >= 13).map((m) => m.name),
    );
    const builds = await db.pool.query('SELECT id, arch FROM builds ORDER BY id');
    expect(builds.rows).toEqual([
      { id: done, arch: 'riscv64' },
      { id: waiting, arch: null },
    ]);
    const pkg = await db.pool.query('SELECT name, version, arch FROM packages');
    expect(pkg.rows).toEqual([{ name: 'zlib', version: '1.3.1', arch: 'riscv64' }]);
    // The same name and version for another arch is another package.
    await db.pool.query(`UPDATE builds SET status = 'succeeded', arch = 'arm64' WHERE id = $1`, [waiting]);
    await db.pool.query(
      `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count) VALUES ('zlib', '1.3.1', 'arm64', $1, 11, 1)`,
      [waiting],
    );
    await expect(
      db.pool.query(
        `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count) VALUES ('zlib', '1.3.1', 'arm64', $1, 11, 1)`,
        [waiting],
      ),
    ).rejects.toMatchObject({ code: '23505' });
  });

  test('018: the needs of a filled database learn which builds are current, and with which arch', async () => {
    const all = await loadMigrations();
    await migrate(
      db.pool,
      all.filter((m) => m.version < 18),
    );
    const replaced = '7d444840-9dc0-41d8-8c5b-5a8f5e5f5e11';
    const hotfix = '7d444840-9dc0-41d8-8c5b-5a8f5e5f5e12';
    const other = '7d444840-9dc0-41d8-8c5b-5a8f5e5f5e13';
    await db.pool.query(
      `INSERT INTO builds (id, repo, package_name, package_version, status, arch) VALUES
         ($1, '/srv/git/curl.git', 'curl', '8.0', 'succeeded', 'amd64'),
         ($2, '/srv/git/curl.git', 'curl', '8.0', 'succeeded', 'amd64'),
         ($3, '/srv/git/curl.git', 'curl', '8.0', 'succeeded', 'arm64')`,
      [replaced, hotfix, other],
    );
    await db.pool.query(
      `INSERT INTO package_files (build_id, path, size, mode, kind, needed)
       SELECT id, '/usr/bin/curl', 1, '0755', 'executable', ARRAY['libz.so.1', 'libc.so.6'] FROM builds`,
    );
    await db.pool.query(
      `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count) VALUES
         ('curl', '8.0', 'amd64', $1, 1, 1), ('curl', '8.0', 'arm64', $2, 1, 1)`,
      [hotfix, other],
    );
    expect(await migrate(db.pool, all)).toEqual(all.filter((m) => m.version >= 18).map((m) => m.name));
    const needs = await db.pool.query(
      'SELECT build_id, soname, current_arch FROM package_needs ORDER BY build_id, soname',
    );
    expect(needs.rows).toEqual([
      { build_id: replaced, soname: 'libc.so.6', current_arch: null },
      { build_id: replaced, soname: 'libz.so.1', current_arch: null },
      { build_id: hotfix, soname: 'libc.so.6', current_arch: 'amd64' },
      { build_id: hotfix, soname: 'libz.so.1', current_arch: 'amd64' },
      { build_id: other, soname: 'libc.so.6', current_arch: 'arm64' },
      { build_id: other, soname: 'libz.so.1', current_arch: 'arm64' },
    ]);
  });

  test('an unreachable database is one clear line', async () => {
    const env = { ...process.env, KILN_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/kiln' };
    await expect(run(...kilnCommand('migrate'), { env })).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /^kiln: cannot reach PostgreSQL at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/kiln: .* \(is it running\? set KILN_DATABASE_URL\)\n$/,
      ),
    });
  }, 30_000);
});
