import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../http/deps.js';
import { assetRoutes } from './asset-routes.js';
import { loadAssets, type WebAssets } from './assets.js';
import { buildPageRoute } from './build-page-route.js';
import { pageRoutes } from './page-routes.js';
import { errorPage } from './views/layout.js';

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
  return assets;
}

/** A 404 page for a browser that asked for a page that does not exist. */
export function notFoundPage(assets: WebAssets, path: string): string {
  return errorPage(assets.urls, 'Not found', `There is no page ${path}.`);
}
