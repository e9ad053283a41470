import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Queryable } from '@kiln/shared';
import { authenticate, scopeAllows, type TokenInfo, type TokenScope } from '../db/token-store.js';
import { ApiError } from './api-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    token?: TokenInfo;
  }
}

/** The bearer token of a request, if it sent one. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new ApiError(401, 'unauthorized', 'the Authorization header must be "Bearer <token>"');
  return match[1];
}

/**
 * The cookie a browser keeps a read token in (`KILN_HTTP_AUTH=read`): the web
 * page's sign-in form sets it, HttpOnly and SameSite=Strict. It is taken for
 * reads (GET, HEAD) only: a write always needs the Authorization header, so a
 * page from elsewhere can never make a browser write with it.
 */
export const SESSION_COOKIE = 'kiln_read';

/** The token in the request's session cookie, for a read. */
export function sessionToken(request: FastifyRequest): string | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    // Tokens are base64url: nothing in one needs decoding.
    if (name === SESSION_COOKIE && value.length > 0) return value.join('=') || null;
  }
  return null;
}

/** A preHandler that lets the request through only with a live token of at least `scope`. */
export function requireScope(
  db: Queryable,
  scope: TokenScope,
  options: { cookie?: boolean } = {},
): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const secret = bearerToken(request) ?? (options.cookie ? sessionToken(request) : null);
    if (!secret) {
      throw new ApiError(
        401,
        'unauthorized',
        `this needs a token with scope ${scope}: send "Authorization: Bearer <token>" (an operator makes one with "kiln token create")`,
      );
    }
    const token = await authenticate(db, secret);
    if (!token) throw new ApiError(401, 'unauthorized', 'the token is not valid (unknown or revoked)');
    if (!scopeAllows(token.scope, scope)) {
      throw new ApiError(403, 'forbidden', `the token "${token.name}" has scope ${token.scope}; this needs ${scope}`);
    }
    request.token = token;
  };
}
