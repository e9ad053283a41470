import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, migrate } from '@kiln/shared';

/** The server the suites use; each test file gets a database of its own on it. */
export const ADMIN_URL = process.env.KILN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  [Symbol.asyncDispose](): Promise<void>;
}

function urlFor(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, empty database (no migrations applied): for testing the migrator.
 */
export async function createEmptyDatabase(prefix = 'kiln_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return wrap(name);
}

/** A fresh database with every migration applied. */
export async function createTestDatabase(prefix = 'kiln_test'): Promise<TestDatabase> {
  const db = await createEmptyDatabase(prefix);
  await migrate(db.pool);
  return db;
}

function wrap(name: string): TestDatabase {
  const url = urlFor(name);
  const pool = createPool(url, { max: 10, applicationName: 'kiln-test' });
  return {
    url,
    name,
    pool,
    async [Symbol.asyncDispose]() {
      await pool.end().catch(() => {});
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => {});
    },
  };
}
