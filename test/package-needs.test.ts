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

test('an arch per current build: whichever is written first, package row or files; ties in arch order; removed with the package row', async () => {
  const needers = async (soname: string) =>
    (await searchFiles(db.pool, 'needs', soname)).map((h) => `${h.package.name} ${h.package.arch} ${h.buildId}`);
  const current = async (buildId: string) =>
    (
      await db.pool.query<{ current_arch: string | null }>(
        'SELECT DISTINCT current_arch FROM package_needs WHERE build_id = $1',
        [buildId],
      )
    ).rows.map((r) => r.current_arch);
  // arm64: the package row first, then its files (the files' trigger finds it).
  const arm = randomUUID();
  await db.pool.query(
    `INSERT INTO builds (id, repo, package_name, package_version, status, trigger, arch)
     VALUES ($1, '/srv/git/zstd.git', 'zstd', '1.5', 'succeeded', 'poll', 'arm64')`,
    [arm],
  );
  await db.pool.query(
    `INSERT INTO packages (name, version, build_id, installed_size, file_count, arch) VALUES ('zstd', '1.5', $1, 1, 1, 'arm64')`,
    [arm],
  );
  await db.pool.query(
    `INSERT INTO package_files (build_id, path, size, mode, kind, needed) VALUES ($1, '/usr/bin/zstd', 1, '0755', 'executable', ARRAY['liblzma.so.5'])`,
    [arm],
  );
  expect(await current(arm)).toEqual(['arm64']);
  // amd64 (packageBuild: files first, then the package row); the same name, version and path.
  const amd = await packageBuild('zstd', '1.5', { '/usr/bin/zstd': ['liblzma.so.5'] });
  expect(await current(amd)).toEqual(['amd64']);
  expect(await needers('liblzma.so.5')).toEqual([`zstd amd64 ${amd}`, `zstd arm64 ${arm}`]);
  // A build not (yet) any package's current one is not shown.
  const waiting = randomUUID();
  await db.pool.query(
    `INSERT INTO builds (id, repo, package_name, package_version, status, trigger)
     VALUES ($1, '/srv/git/xz.git', 'xz', '5.4', 'running', 'poll')`,
    [waiting],
  );
  await db.pool.query(
    `INSERT INTO package_files (build_id, path, size, mode, kind, needed) VALUES ($1, '/usr/bin/xz', 1, '0755', 'executable', ARRAY['liblzma.so.5'])`,
    [waiting],
  );
  expect(await current(waiting)).toEqual([null]);
  expect(await needers('liblzma.so.5')).toHaveLength(2);
  // Its package row points at it by an update (a row that pointed at another build before).
  const older = await packageBuild('xz', '5.4', { '/usr/bin/xz': ['liblzma.so.5'] });
  await db.pool.query(`UPDATE packages SET build_id = $1 WHERE name = 'xz' AND version = '5.4'`, [waiting]);
  expect(await current(older)).toEqual([null]);
  expect(await current(waiting)).toEqual(['amd64']);
  expect(await needers('liblzma.so.5')).toEqual([`xz amd64 ${waiting}`, `zstd amd64 ${amd}`, `zstd arm64 ${arm}`]);
  // Removing the package row takes its files out of the answer; its rows stay, not current.
  await db.pool.query(`DELETE FROM packages WHERE name = 'zstd' AND arch = 'arm64'`);
  expect(await current(arm)).toEqual([null]);
  expect(await needers('liblzma.so.5')).toEqual([`xz amd64 ${waiting}`, `zstd amd64 ${amd}`]);
});
