import pg from 'pg';
import { InfrastructureError } from '../errors.js';
import { redactRepo } from '../repo-url.js';
import type { Database, Queryable } from './queryable.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(url: string, options: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'kiln',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

/** Runs `work` in one transaction on one client; rolls back if it throws. */
export async function withTransaction<T>(pool: Database, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection lost while the client is checked out (PostgreSQL restarted between two statements)
  // is emitted as 'error' on the client, and pg-pool listens only to idle ones: unheard, it killed
  // the process (found by the chaos suite). Heard here, the next statement fails instead, and the
  // broken client is destroyed on release rather than handed to the next caller.
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on?.('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.off?.('error', onError);
    client.release(lost);
  }
}

/** Checks that PostgreSQL answers, with an error that says what to fix. */
export async function assertDatabaseReachable(pool: pg.Pool, url: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw new InfrastructureError(
      `cannot reach PostgreSQL at ${redactRepo(url)}: ${(err as Error).message} (is it running? set KILN_DATABASE_URL)`,
      { cause: err },
    );
  }
}
