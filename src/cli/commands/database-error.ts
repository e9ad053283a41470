import { KilnError, PG, redactRepo, toError } from '@kiln/shared';

/** A database failure as one line that says what to do. */
export function databaseError(thrown: unknown, url: string): Error {
  const err = toError(thrown);
  if (err instanceof KilnError) return err;
  const code = (err as { code?: string }).code;
  if (code === PG.UNDEFINED_TABLE)
    return new KilnError('the database has no Kiln tables yet: run "kiln migrate"', { cause: err });
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === '3D000' ||
    code === PG.CANNOT_CONNECT_NOW ||
    code === PG.ADMIN_SHUTDOWN
  ) {
    return new KilnError(
      `cannot reach PostgreSQL at ${redactRepo(url)}: ${err.message} (is it running? set KILN_DATABASE_URL)`,
      { cause: err },
    );
  }
  return err;
}
