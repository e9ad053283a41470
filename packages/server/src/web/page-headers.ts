import type { FastifyReply } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A page for people: HTML answers, a read token may come from the session cookie. */
    page?: boolean;
  }
}

/** The options of every page route: left out of the OpenAPI document, marked as a page. */
export const PAGE = { schema: { hide: true }, config: { page: true } } as const;

/**
 * Everything a page uses comes from this server: scripts and styles only
 * from its own files (inline style attributes are allowed for ANSI's 256
 * colours and the bars' widths), requests only to its own API.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function asPage(reply: FastifyReply, status = 200): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-cache');
}
