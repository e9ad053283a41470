import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { requireScope } from './http/auth.js';
import type { ServerDeps } from './http/deps.js';
import { installErrorHandling } from './http/error-handler.js';
import { RequestLog } from './http/request-log.js';
import { buildActionRoutes } from './routes/build-actions.js';
import { buildAttestationRoutes } from './routes/build-attestations.js';
import { buildDiffRoutes } from './routes/build-diff.js';
import { buildLogRoutes, type OpenStreams } from './routes/build-log.js';
import { buildRoutes } from './routes/builds.js';
import { openApiRoute } from './routes/openapi.js';
import { packageRoutes } from './routes/packages.js';
import { repoRoutes } from './routes/repo.js';
import { metricsRoute } from './routes/metrics.js';
import { searchRoutes } from './routes/search.js';
import { ApiError } from './http/api-error.js';
import { notFoundPage, signIn, webRoutes, type WebAssets } from './web/index.js';

/** Request bodies larger than this are refused with 413. */
export const BODY_LIMIT = 64 * 1024;

// Routes that stay public under KILN_HTTP_AUTH=read: the API's description, the farm's public key, and the
// page's script and style (the same for everyone; the pages themselves, which show data, are not public).
const ALWAYS_PUBLIC = new Set(['/api/v1/openapi.json', '/repo/key.asc', '/assets/:file', '/metrics']);

/**
 * The HTTP application: routes, validation and the OpenAPI document from the
 * same zod schemas, errors in one shape. `onRoute` sees every route it serves.
 */
export async function buildApp(
  deps: ServerDeps,
  options: { onRoute?: (route: RouteOptions) => void; assets?: WebAssets } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    logController: new RequestLog(),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  // Responses are typed against the same zod schemas at compile time; checking every one again at run time
  // (the type provider's serializer) costs more CPU than the query behind it, so only tests turn it on.
  app.setSerializerCompiler(deps.checkResponses ? serializerCompiler : () => (data) => JSON.stringify(data));
  let assets: WebAssets | null = null;
  installErrorHandling(app, {
    notFoundPage: (reply, path) => {
      if (!assets) return false;
      void notFoundPage(assets, reply, path);
      return true;
    },
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  if (deps.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: deps.corsOrigins,
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'last-event-id'],
    });
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kiln',
        version: '1.0.0',
        description: "Kiln's package database: builds, live logs, packages, search, and a signed package repository.",
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  if (deps.auth === 'read') {
    // A browser's read token may come from the session cookie that the sign-in page sets (reads only).
    const read = requireScope(deps.db, 'read', { cookie: true });
    app.addHook('preHandler', async (request, reply) => {
      const route = request.routeOptions.url;
      if (route === undefined || ALWAYS_PUBLIC.has(route) || request.method === 'POST') return;
      try {
        await read.call(app, request, reply);
      } catch (err) {
        // A person asking for a page gets a form for a token, not the API's JSON.
        if (!(request.routeOptions.config.page && err instanceof ApiError && assets)) throw err;
        return signIn(assets, request, reply, err);
      }
    });
  }

  const answers = deps.answers;
  if (answers) {
    // A write through this server (submit, cancel, rebuild) is in the next read at once; its change
    // notification, which empties every server's cache, follows a moment later.
    app.addHook('onSend', async (request, _reply, payload) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') answers.clear();
      return payload;
    });
  }

  const streams: OpenStreams = new Set();
  app.addHook('onClose', async () => {
    for (const stream of streams) stream.abort();
  });
  openApiRoute(app);
  buildRoutes(app, deps);
  buildLogRoutes(app, deps, streams);
  buildActionRoutes(app, deps);
  buildAttestationRoutes(app, deps);
  buildDiffRoutes(app, deps);
  packageRoutes(app, deps);
  searchRoutes(app, deps);
  repoRoutes(app, deps);
  if (deps.metrics) metricsRoute(app, deps.metrics);
  assets = await webRoutes(app, deps, options.assets);
  await app.ready();
  return app;
}
