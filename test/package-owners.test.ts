/**
 * Package ownership in the real PostgreSQL: existing databases take owners
 * from their history, and two first builds of one name cannot both win.
 */
import { randomUUID } from 'node:crypto';
import { claimPackage, loadMigrations, migrate, withTransaction } from '@kiln/shared';
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
