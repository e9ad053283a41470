/**
 * Package ownership in the real PostgreSQL: existing databases take owners
 * from their history, and two first builds of one name cannot both win.
 */
import { randomUUID } from 'node:crypto';
import { claimPackage, loadMigrations, migrate, withTransaction } from '@kiln/shared';
import { runCli } from '../src/cli/main.js';
import { createEmptyDatabase, createTestDatabase } from './helpers/index.js';

test('migration 003 gives each package to the repository of its earliest successful build', async () => {
  await using db = await createEmptyDatabase('kiln_owners');
  const all = await loadMigrations();
  await migrate(
    db.pool,
    all.filter((m) => m.version < 3),
  );
  const build = async (repo: string, name: string, status: string, minutesAgo: number) =>
    db.pool.query(
      `INSERT INTO builds (id, repo, package_name, package_version, status, queued_at)
       VALUES ($1, $2, $3, '1.0', $4, now() - $5 * interval '1 minute')`,
      [randomUUID(), repo, name, status, minutesAgo],
    );
  await build('https://***@git.example.org/team/zlib.git', 'zlib', 'succeeded', 30);
  await build('/srv/git/zlib-fork/', 'zlib', 'succeeded', 10);
  await build('/srv/git/failing', 'broken', 'failed', 20);
  await build('/srv/git/libgreet.git', 'libgreet', 'failed', 50);
  await build('/srv/git/libgreet.git', 'libgreet', 'succeeded', 40);

  expect(await migrate(db.pool)).toContain('003_package_owners');
  const { rows } = await db.pool.query('SELECT name, repo, granted_by FROM package_owners ORDER BY name');
  expect(rows).toEqual([
    { name: 'libgreet', repo: '/srv/git/libgreet', granted_by: 'history' },
    { name: 'zlib', repo: 'https://git.example.org/team/zlib', granted_by: 'history' },
  ]);
});

test('two repositories recording the same new package at once: exactly one owns it', async () => {
  await using db = await createTestDatabase('kiln_owners');
  const results = await Promise.all(
    ['/srv/git/a', '/srv/git/b', '/srv/git/c'].map((repo) =>
      withTransaction(db.pool, async (tx) => {
        const claim = await claimPackage(tx, 'contested', repo);
        // Hold the transaction a moment, as recording the files does.
        await tx.query('SELECT pg_sleep(0.2)');
        return { repo, ok: claim.ok };
      }),
    ),
  );
  expect(results.filter((r) => r.ok)).toHaveLength(1);
  const { rows } = await db.pool.query("SELECT repo FROM package_owners WHERE name = 'contested'");
  expect(rows).toEqual([{ repo: results.find((r) => r.ok)?.repo }]);
});

test('kiln owner add, transfer and remove change who may build a package', async () => {
  await using db = await createTestDatabase('kiln_owners');
  let out = '';
  let err = '';
  const io = {
    out: (t: string) => void (out += t),
    err: (t: string) => void (err += t),
    isTty: false,
    env: { KILN_DATABASE_URL: db.url },
  };
  const owners = async () =>
    (
      await db.pool.query<{ repo: string }>("SELECT repo FROM package_owners WHERE name = 'zlib' ORDER BY repo")
    ).rows.map((r) => r.repo);
  expect(await runCli(['node', 'kiln', 'owner', 'add', 'zlib', '/srv/git/zlib.git'], io)).toBe(0);
  expect(await runCli(['node', 'kiln', 'owner', 'add', 'zlib', 'https://user:pw@git.example.org/zlib/'], io)).toBe(0);
  expect(await owners()).toEqual(['/srv/git/zlib', 'https://git.example.org/zlib']);
  expect(out).not.toContain('pw@');

  expect(await runCli(['node', 'kiln', 'owner', 'transfer', 'zlib', '/srv/git/zlib-new'], io)).toBe(0);
  expect(await owners()).toEqual(['/srv/git/zlib-new']);

  expect(await runCli(['node', 'kiln', 'owner', 'remove', 'zlib', '/srv/git/zlib'], io)).toBe(1);
  expect(err).toContain('kiln: /srv/git/zlib does not own zlib');
  expect(await runCli(['node', 'kiln', 'owner', 'remove', 'zlib', '/srv/git/zlib-new'], io)).toBe(0);
  expect(await owners()).toEqual([]);

  expect(await runCli(['node', 'kiln', 'owner', 'add', 'zlib', '--upload-pack=evil'], io)).toBe(2);
});
