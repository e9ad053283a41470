import { randomUUID } from 'node:crypto';
import { searchFiles } from '../packages/server/src/db/search-queries.js';
import { createTestDatabase, type TestDatabase } from './helpers/index.js';

/**
 * package_needs (migration 012), the table "who needs libz.so.1" reads: kept
 * by triggers on package_files whoever writes it, against a real PostgreSQL.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('kiln_package_needs');
});
afterAll(async () => {
  await db[Symbol.asyncDispose]();
});

async function packageBuild(name: string, version: string, files: Record<string, string[] | null>) {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO builds (id, repo, package_name, package_version, status, trigger)
     VALUES ($1, $2, $3, $4, 'succeeded', 'poll')`,
    [id, `/srv/git/${name}.git`, name, version],
  );
  await db.pool.query(
    `INSERT INTO package_files (build_id, path, size, mode, kind, needed)
     SELECT $1, t.path, 1, '0755', 'executable', CASE WHEN t.needed = '' THEN NULL ELSE string_to_array(t.needed, ',') END
       FROM unnest($2::text[], $3::text[]) AS t(path, needed)`,
    [id, Object.keys(files), Object.values(files).map((n) => (n ? n.join(',') : ''))],
  );
  await db.pool.query(
    `INSERT INTO packages (name, version, build_id, installed_size, file_count, arch) VALUES ($1, $2, $3, 1, 1, 'amd64')
     ON CONFLICT (name, version, arch) DO UPDATE SET build_id = EXCLUDED.build_id`,
    [name, version, id],
  );
  return id;
}

const needsOf = async (buildId: string) =>
  (
    await db.pool.query<{ soname: string; package_name: string; path: string }>(
      'SELECT soname, package_name, path FROM package_needs WHERE build_id = $1 ORDER BY path, soname',
      [buildId],
    )
  ).rows;
const whoNeeds = async (soname: string, limit?: number) =>
  (await searchFiles(db.pool, 'needs', soname, limit)).map(
    (h) => `${h.package.name} ${h.package.version} ${h.file.path}`,
  );

test('written, changed and removed with the files; the search shows current packages only, in order, to the limit', async () => {
  const curl = await packageBuild('curl', '8.0', {
    '/usr/bin/curl': ['libz.so.1', 'libc.so.6'],
    '/usr/share/doc': null,
  });
  expect(await needsOf(curl)).toEqual([
    { soname: 'libc.so.6', package_name: 'curl', path: '/usr/bin/curl' },
    { soname: 'libz.so.1', package_name: 'curl', path: '/usr/bin/curl' },
  ]);
  const apt = await packageBuild('apt', '2.6', { '/usr/bin/apt': ['libz.so.1'], '/usr/bin/apt-get': ['libz.so.1'] });
  expect(await whoNeeds('libz.so.1')).toEqual([
    'apt 2.6 /usr/bin/apt',
    'apt 2.6 /usr/bin/apt-get',
    'curl 8.0 /usr/bin/curl',
  ]);
  expect(await whoNeeds('libz.so.1', 2)).toEqual(['apt 2.6 /usr/bin/apt', 'apt 2.6 /usr/bin/apt-get']);

  // A hotfix of curl 8.0 that no longer needs libz: the old build's rows stay, but it is no longer current.
  const hotfix = await packageBuild('curl', '8.0', { '/usr/bin/curl': ['libc.so.6'] });
  expect(await whoNeeds('libz.so.1')).toEqual(['apt 2.6 /usr/bin/apt', 'apt 2.6 /usr/bin/apt-get']);
  expect(await needsOf(hotfix)).toEqual([{ soname: 'libc.so.6', package_name: 'curl', path: '/usr/bin/curl' }]);

  // needed changed in place; files rewritten (the build store deletes and inserts); a build removed.
  await db.pool.query(
    `UPDATE package_files SET needed = ARRAY['libzstd.so.1'] WHERE build_id = $1 AND path = '/usr/bin/apt'`,
    [apt],
  );
  expect(await whoNeeds('libzstd.so.1')).toEqual(['apt 2.6 /usr/bin/apt']);
  expect(await whoNeeds('libz.so.1')).toEqual(['apt 2.6 /usr/bin/apt-get']);
  await db.pool.query('DELETE FROM package_files WHERE build_id = $1', [apt]);
  expect(await needsOf(apt)).toEqual([]);
  await db.pool.query('DELETE FROM packages WHERE build_id = $1', [curl]);
  await db.pool.query('DELETE FROM builds WHERE id = $1', [curl]);
  expect(await needsOf(curl)).toEqual([]);
});
