import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { InvalidInputError, PG, type Queryable } from '@kiln/shared';

export const TOKEN_SCOPES = ['read', 'submit', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** What a scope allows: each includes the ones before it. */
export function scopeAllows(held: TokenScope, needed: TokenScope): boolean {
  return TOKEN_SCOPES.indexOf(held) >= TOKEN_SCOPES.indexOf(needed);
}

export interface TokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Tokens are 256 random bits, so one round of SHA-256 is all the hashing they need (no password stretching). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Makes a token and stores only its hash; the token itself is returned once and never again. */
export async function createToken(
  db: Queryable,
  name: string,
  scope: TokenScope,
): Promise<{ token: string; info: TokenInfo }> {
  if (!NAME.test(name)) {
    throw new InvalidInputError(`token name "${name.slice(0, 80)}" must be 1-64 letters, digits, . _ @ -`);
  }
  const token = `kiln_${randomBytes(32).toString('base64url')}`;
  try {
    const { rows } = await db.query<TokenRow>(
      `INSERT INTO api_tokens (id, name, scope, token_sha256) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [randomUUID(), name, scope, hashToken(token)],
    );
    return { token, info: toInfo(rows[0]!) };
  } catch (err) {
    if ((err as { code?: string }).code === PG.UNIQUE_VIOLATION) {
      throw new InvalidInputError(`a token named "${name}" exists already (revoke it first, or choose another name)`, {
        cause: err,
      });
    }
    throw err;
  }
}

export async function listTokens(db: Queryable): Promise<TokenInfo[]> {
  const { rows } = await db.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, name`);
  return rows.map(toInfo);
}

/** Revokes by name or id; false when there is no such live token. */
export async function revokeToken(db: Queryable, nameOrId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE api_tokens SET revoked_at = now()
      WHERE revoked_at IS NULL AND (name = $1 OR id::text = $1)`,
    [nameOrId],
  );
  return (rowCount ?? 0) > 0;
}

/** The live token this secret belongs to, or null. Records its use at most once a minute. */
export async function authenticate(db: Queryable, token: string): Promise<TokenInfo | null> {
  const { rows } = await db.query<TokenRow>(
    `SELECT ${COLUMNS} FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL`,
    [hashToken(token)],
  );
  const row = rows[0];
  if (!row) return null;
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    await db.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [row.id]);
  }
  return toInfo(row);
}

const COLUMNS = 'id::text AS id, name, scope, created_at, last_used_at, revoked_at';

interface TokenRow {
  id: string;
  name: string;
  scope: TokenScope;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}
