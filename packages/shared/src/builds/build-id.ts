import type { Queryable } from '../db/queryable.js';
import { InvalidInputError } from '../errors.js';

/**
 * A build id as people type it: the full UUID or a unique prefix of at least
 * 4 hex digits (what `kiln status` shows). Null when none matches.
 */
export async function resolveBuildId(db: Queryable, idOrPrefix: string): Promise<string | null> {
  const text = idOrPrefix.trim().toLowerCase();
  if (!/^[0-9a-f-]{4,36}$/.test(text)) {
    throw new InvalidInputError(
      `"${idOrPrefix.slice(0, 60)}" is not a build id (a UUID, or its first characters as "kiln status" shows them)`,
    );
  }
  const result = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM builds WHERE id::text LIKE $1 || '%' ORDER BY queued_at DESC LIMIT 2`,
    [text],
  );
  if (result.rows.length > 1 && result.rows[0]?.id !== text) {
    throw new InvalidInputError(`build id prefix "${text}" is ambiguous: give more characters`);
  }
  return result.rows[0]?.id ?? null;
}

/** Whether a build with this id exists. */
export async function buildExists(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM builds WHERE id = $1', [id]);
  return rows.length > 0;
}
