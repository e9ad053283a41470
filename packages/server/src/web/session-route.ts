import type { FastifyInstance } from 'fastify';
import { authenticate, scopeAllows } from '../db/token-store.js';
import { SESSION_COOKIE } from '../http/auth.js';
import type { ServerDeps } from '../http/deps.js';
import type { WebAssets } from './assets.js';
import { PAGE, asPage } from './page-headers.js';
import { signInPage } from './views/sign-in-page.js';

/** Where to go after signing in: a path on this server only, never another host (`//host`, `/\host`). */
export function localPath(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) && next.length <= 4096 ? next : '/';
}

/**
 * `POST /session` (the sign-in page's form): a token good for reads is kept
 * in the session cookie and the browser goes back to the page it wanted.
 * Registered in a scope of its own, the only place that parses form bodies.
 */
export async function sessionRoute(app: FastifyInstance, deps: ServerDeps, assets: WebAssets): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    scope.post<{ Body: Record<string, string | undefined> | undefined }>('/session', PAGE, async (request, reply) => {
      const next = localPath(request.body?.next);
      const secret = (request.body?.token ?? '').trim();
      const token = /^[A-Za-z0-9_-]{1,200}$/.test(secret) ? await authenticate(deps.db, secret) : null;
      if (!token || !scopeAllows(token.scope, 'read')) {
        return asPage(reply, 401).send(signInPage(assets.urls, next, 'That token is not valid (unknown or revoked).'));
      }
      const secure = request.protocol === 'https' ? '; Secure' : '';
      return reply
        .header('set-cookie', `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; SameSite=Strict${secure}`)
        .header('cache-control', 'no-store')
        .redirect(next, 303);
    });
  });
}
