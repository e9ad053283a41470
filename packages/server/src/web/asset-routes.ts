import type { FastifyInstance } from 'fastify';
import type { WebAssets } from './assets.js';

/** The page's script, style sheet and icon; a request with the current hash may be cached for good. */
export function assetRoutes(app: FastifyInstance, assets: WebAssets): void {
  app.get<{ Params: { file: string }; Querystring: { v?: string } }>(
    '/assets/:file',
    { schema: { hide: true } },
    async (request, reply) => {
      const asset = assets.files.get(request.params.file);
      if (!asset) {
        const built = assets.missing.length > 0 ? ' (the web assets were not built: run "npm run build")' : '';
        return reply
          .code(404)
          .send({ error: { code: 'not_found', message: `no asset ${request.params.file}${built}` } });
      }
      const etag = `"${asset.etag}"`;
      void reply
        .type(asset.type)
        .header('etag', etag)
        .header('x-content-type-options', 'nosniff')
        .header(
          'cache-control',
          request.query.v === asset.etag ? 'public, max-age=31536000, immutable' : 'public, max-age=60',
        );
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(asset.body);
    },
  );
}
