import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { withTransaction } from './pool.js';
import type { Queryable } from './queryable.js';
import { debianHostArch } from '../host-arch.js';

/** The migrations folder ships beside `src/` and `dist/` in @kiln/shared. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

// Any constant will do, as long as every migrator uses the same one.
const MIGRATION_LOCK = 7_384_211_093;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{3,}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, file.indexOf('_'))),
      name: file.replace(/\.sql$/, ''),
      sql: await readFile(`${dir}/${file}`, 'utf8'),
    })),
  );
}

export interface MigrateOptions {
  /** The Debian arch of the host whose builds the database holds (default: this host's). */
  hostArch?: string;
}

/**
 * Applies pending migrations in one transaction whose first statement takes
 * an advisory lock: two migrators at once run one after the other, and the
 * second finds nothing left to do. Returns the names it applied.
 */
export async function migrate(
  pool: pg.Pool,
  migrations?: Migration[],
  options: MigrateOptions = {},
): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  return withTransaction(pool, async (db: Queryable) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // Rows written before builds had an arch were built for this host's (013_arch.sql reads it).
    await db.query("SELECT set_config('kiln.host_arch', $1, true)", [options.hostArch ?? debianHostArch()]);
    await db.query(`CREATE TABLE IF NOT EXISTS kiln_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await db.query<{ version: number }>('SELECT version FROM kiln_migrations');
    const applied = new Set(done.rows.map((r) => r.version));
    const names: string[] = [];
    for (const m of all) {
      if (applied.has(m.version)) continue;
      await db.query(m.sql);
      await db.query('INSERT INTO kiln_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      names.push(m.name);
    }
    return names;
  });
}

/** Versions applied and pending, for `kiln migrate --status` and start-up checks. */
export async function migrationStatus(
  db: Queryable,
  migrations?: Migration[],
): Promise<{ applied: number[]; pending: string[] }> {
  const all = migrations ?? (await loadMigrations());
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('kiln_migrations')::text AS t");
  const applied = exists.rows[0]?.t
    ? (await db.query<{ version: number }>('SELECT version FROM kiln_migrations ORDER BY version')).rows.map(
        (r) => r.version,
      )
    : [];
  return { applied, pending: all.filter((m) => !applied.includes(m.version)).map((m) => m.name) };
}
