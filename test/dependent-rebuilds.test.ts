import { randomUUID } from 'node:crypto';
import { queueDependents, type RebuildPolicy } from '@kiln/agent';
import { createTestDatabase, type TestDatabase } from './helpers/index.js';

/** Which rebuilds a change queues, against a real PostgreSQL (rows written as the agent writes them). */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('kiln_dependents');
});
afterAll(async () => {
  await db[Symbol.asyncDispose]();
});

const ON: RebuildPolicy = { repos: ['*'], onLibraryChange: false, perHour: 50 };

/** A succeeded build of `name` that is the package's current version, its one file needing `needed`. */
async function current(
  name: string,
  needed: string[],
  extra: { triggeredBy?: string; repo?: string; arch?: string } = {},
) {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO builds (id, repo, branch, commit, package_name, package_version, status, trigger, triggered_by)
     VALUES ($1, $2, $3, $4, $5, '1.0.0', 'succeeded', $6, $7)`,
    [
      id,
      extra.repo ?? `/srv/git/${name}.git`,
      `${name}-1.0.0`,
      'a'.repeat(40),
      name,
      extra.triggeredBy ? 'dependency' : 'poll',
      extra.triggeredBy ?? null,
    ],
  );
  await db.pool.query(
    `INSERT INTO packages (name, version, build_id, installed_size, file_count, arch) VALUES ($1, '1.0.0', $2, 1, 1, $3)
     ON CONFLICT (name, version, arch) DO UPDATE SET build_id = EXCLUDED.build_id`,
    [name, id, extra.arch ?? 'amd64'],
  );
  await db.pool.query(
    `INSERT INTO package_files (build_id, path, size, mode, kind, linkage, needed) VALUES ($1, $2, 1, '0755', 'executable', 'dynamic', $3)`,
    [id, `/usr/bin/${name}`, needed],
  );
  return id;
}

async function dependencyBuilds(trigger: string) {
  const { rows } = await db.pool.query<{ package_name: string; trigger: string; outbox: boolean }>(
    `SELECT b.package_name, b.trigger, EXISTS (SELECT 1 FROM job_outbox o WHERE o.build_id = b.id) AS outbox
       FROM builds b WHERE b.triggered_by = $1 ORDER BY b.package_name`,
    [trigger],
  );
  return rows;
}

test('the packages needing a changed SONAME are queued once per triggering build, with an outbox entry', async () => {
  const lib = await current('libx', ['libc.so.6']);
  await current('x-user', ['libx.so.1', 'libc.so.6']);
  await current('x-other', ['liby.so.1']);
  expect(
    await queueDependents(db.pool, { id: lib, packageName: 'libx', repo: '/srv/git/libx.git' }, ['libx.so.1'], ON),
  ).toHaveLength(1);
  expect(
    await queueDependents(db.pool, { id: lib, packageName: 'libx', repo: '/srv/git/libx.git' }, ['libx.so.1'], ON),
  ).toEqual([]);
  expect(await dependencyBuilds(lib)).toEqual([{ package_name: 'x-user', trigger: 'dependency', outbox: true }]);
});

test('off, or not opted in for this repository: nothing', async () => {
  const lib = await current('libq', []);
  await current('q-user', ['libq.so.1']);
  const trigger = { id: lib, packageName: 'libq', repo: '/srv/git/libq.git' };
  expect(await queueDependents(db.pool, trigger, ['libq.so.1'], { ...ON, repos: [] })).toEqual([]);
  expect(await queueDependents(db.pool, trigger, ['libq.so.1'], { ...ON, repos: ['/srv/git/other.git'] })).toEqual([]);
  expect(await queueDependents(db.pool, trigger, ['libq.so.1'], { ...ON, repos: ['/srv/git/libq.git/'] })).toHaveLength(
    1,
  );
});

test('cycles end: a package already in the chain of triggering builds is not queued again', async () => {
  // liba needs libb, libb needs liba; a liba change rebuilt libb, whose rebuild changed what libb provides.
  const a = await current('cyc-a', ['libcycb.so.1']);
  const b = await current('cyc-b', ['libcyca.so.1'], { triggeredBy: a });
  expect(
    await queueDependents(db.pool, { id: b, packageName: 'cyc-b', repo: '/srv/git/cyc-b.git' }, ['libcycb.so.1'], ON),
  ).toEqual([]);
});

test('the hourly cap bounds a storm', async () => {
  const lib = await current('libstorm', []);
  for (let i = 0; i < 5; i++) await current(`storm-${i}`, ['libstorm.so.1']);
  const already = Number(
    (
      await db.pool.query(
        "SELECT count(*) AS n FROM builds WHERE trigger = 'dependency' AND queued_at > now() - interval '1 hour'",
      )
    ).rows[0].n,
  );
  const queued = await queueDependents(
    db.pool,
    { id: lib, packageName: 'libstorm', repo: '/srv/git/libstorm.git' },
    ['libstorm.so.1'],
    { ...ON, perHour: already + 3 },
  );
  expect(queued).toHaveLength(3);
});

test('same arch only: an arm64 change rebuilds the arm64 dependents, and the job and its build say arm64', async () => {
  const lib = await current('libarch', [], { arch: 'arm64' });
  await current('arch-amd64-user', ['libarch.so.1'], { arch: 'amd64' });
  await current('arch-arm64-user', ['libarch.so.1'], { arch: 'arm64' });
  const trigger = { id: lib, packageName: 'libarch', repo: '/srv/git/libarch.git', arch: 'arm64' };
  const [queued, ...more] = await queueDependents(db.pool, trigger, ['libarch.so.1'], ON);
  expect(more).toEqual([]);
  const { rows } = await db.pool.query<{ package_name: string; arch: string; job_arch: string }>(
    `SELECT b.package_name, b.arch, o.payload->>'arch' AS job_arch
       FROM builds b JOIN job_outbox o ON o.build_id = b.id WHERE b.id = $1`,
    [queued],
  );
  expect(rows).toEqual([{ package_name: 'arch-arm64-user', arch: 'arm64', job_arch: 'arm64' }]);
});
