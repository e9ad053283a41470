import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../http/auth.js';
import type { ServerDeps } from '../http/deps.js';
import { assetRoutes } from './asset-routes.js';
import { loadAssets, type WebAssets } from './assets.js';
import { buildPageRoute } from './build-page-route.js';
import { asPage } from './page-headers.js';
import { pageRoutes } from './page-routes.js';
import { reproducibilityRoute } from './reproducibility-route.js';
import { sessionRoute } from './session-route.js';
import { errorPage } from './views/layout.js';
import { signInPage } from './views/sign-in-page.js';

export { loadAssets, type WebAssets } from './assets.js';

/**
 * The web page at `/`: builds, a build's live log, packages and search,
 * rendered on the server from the API's queries, with a small script for
 * what changes while one looks.
 */
export async function webRoutes(app: FastifyInstance, deps: ServerDeps, given?: WebAssets): Promise<WebAssets> {
  const assets = given ?? (await loadAssets());
  if (assets.missing.length > 0) {
    deps.logger.warn(
      { missing: assets.missing },
      'the web page has no script or style sheet: "npm run build" builds them; pages are served without',
    );
  }
  assetRoutes(app, assets);
  pageRoutes(app, deps, assets);
  buildPageRoute(app, deps, assets);
  reproducibilityRoute(app, deps, assets);
  await sessionRoute(app, deps, assets);
  return assets;
}

/** A page that needs a read token it did not get: the sign-in form, which comes back here. */
export function signIn(
  assets: WebAssets,
  request: FastifyRequest,
  reply: FastifyReply,
  why: { statusCode: number; message: string },
): FastifyReply {
  const tried = request.headers.cookie?.includes(`${SESSION_COOKIE}=`) ? why.message : undefined;
  return asPage(reply, why.statusCode).send(signInPage(assets.urls, request.url, tried));
}

/** A 404 page for a browser that asked for a page that does not exist. */
export function notFoundPage(assets: WebAssets, reply: FastifyReply, path: string): FastifyReply {
  return asPage(reply, 404).send(errorPage(assets.urls, 'Not found', `There is no page ${path}.`));
}
