/**
 * The one seam to the database: anything that runs SQL with parameters (a
 * pg Pool, a PoolClient inside a transaction, or a test double).
 */
export interface QueryResultLike<R> {
  rows: R[];
  rowCount: number | null;
}

/**
 * A statement with a name: PostgreSQL parses and plans it once per connection
 * and then only binds and runs it. For hot reads whose text is a constant (the
 * name must always stand for the same text).
 */
export interface NamedQuery {
  name: string;
  text: string;
  values?: unknown[];
}

export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResultLike<R>>;
  query<R extends object = Record<string, unknown>>(query: NamedQuery): Promise<QueryResultLike<R>>;
}

/**
 * A database that can also lend one connection for a transaction: a pg Pool
 * is one, and so is a test double. Kiln's code names this, never the driver.
 */
export interface Database extends Queryable {
  connect(): Promise<LentConnection>;
}

/** A connection lent for a transaction; `release(err)` destroys it instead of returning it (pg's PoolClient). */
export interface LentConnection extends Queryable {
  release(err?: Error | boolean): void;
  /** A connection lost between two statements is told here (a pg client emits 'error'). */
  on?(event: 'error', listener: (err: Error) => void): unknown;
  off?(event: 'error', listener: (err: Error) => void): unknown;
}

/** PostgreSQL error codes Kiln acts on. */
export const PG = {
  UNIQUE_VIOLATION: '23505',
  SERIALIZATION_FAILURE: '40001',
  UNDEFINED_TABLE: '42P01',
  ADMIN_SHUTDOWN: '57P01',
  CANNOT_CONNECT_NOW: '57P03',
} as const;
