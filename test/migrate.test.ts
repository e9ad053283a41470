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

  test('an unreachable database is one clear line', async () => {
    const env = { ...process.env, KILN_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/kiln' };
    await expect(run(...kilnCommand('migrate'), { env })).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /^kiln: cannot reach PostgreSQL at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/kiln: .* \(is it running\? set KILN_DATABASE_URL\)\n$/,
      ),
    });
  }, 30_000);
});
