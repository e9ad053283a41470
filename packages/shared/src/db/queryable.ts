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
  connect(): Promise<Queryable & { release(): void }>;
}

/** PostgreSQL error codes Kiln acts on. */
export const PG = {
  UNIQUE_VIOLATION: '23505',
  SERIALIZATION_FAILURE: '40001',
  UNDEFINED_TABLE: '42P01',
  ADMIN_SHUTDOWN: '57P01',
  CANNOT_CONNECT_NOW: '57P03',
} as const;
