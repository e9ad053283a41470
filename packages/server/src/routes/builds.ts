import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildFiles } from '../db/build-files.js';
import { buildExists, getBuild, listBuilds } from '../db/build-queries.js';
import { ANSWER_TABLES } from '../cache/answer-tables.js';
import { cachedAnswer, RUNNING_TTL_MS } from '../cache/cached-answer.js';
import { badParameter, notFound } from '../http/api-error.js';
import type { ServerDeps } from '../http/deps.js';
import { BuildDetailsSchema, BuildFilesSchema, BuildListSchema, BuildParamsSchema } from '../schemas/builds.js';
import {
  ArchSchema,
  BuildIdSchema,
  BuildStatusSchema,
  LimitSchema,
  PackageNameSchema,
  errorResponses,
} from '../schemas/common.js';

export function buildRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/api/v1/builds',
    {
      schema: {
        summary: 'Builds, newest first',
        tags: ['builds'],
        querystring: z.object({
          package: PackageNameSchema.optional(),
          status: BuildStatusSchema.optional(),
          arch: ArchSchema.optional(),
          repo: z.string().min(1).max(2048).optional().describe('the repository, as the build recorded it'),
          limit: LimitSchema(200, 50),
          before: BuildIdSchema.optional().describe("the previous page's `next`"),
        }),
        response: { 200: BuildListSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      cachedAnswer(
        deps.answers,
        request,
        reply,
        async () => {
          const page = await listBuilds(deps.db, request.query);
          if (!page) throw badParameter('query.before', `no build ${request.query.before ?? ''}`);
          return page;
        },
        {
          tables: ANSWER_TABLES.builds,
          ttlMs: (page) => (page.builds.some((b) => b.status === 'running') ? RUNNING_TTL_MS : undefined),
        },
      ),
  );

  api.get(
    '/api/v1/builds/:id',
    {
      schema: {
        summary: 'One build: its stages, commands and timings',
        tags: ['builds'],
        params: BuildParamsSchema,
        response: { 200: BuildDetailsSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      cachedAnswer(
        deps.answers,
        request,
        reply,
        async () => {
          const build = await getBuild(deps.db, request.params.id, deps.arch);
          if (!build) throw notFound(`build ${request.params.id}`);
          return build;
        },
        {
          // Every row it reads is the build's own (its id, or its build_id), or its package's.
          tables: ANSWER_TABLES.builds,
          build: (build) => build.id,
          ttlMs: (build) => (build.status === 'running' ? RUNNING_TTL_MS : undefined),
        },
      ),
  );

  api.get(
    '/api/v1/builds/:id/files',
    {
      schema: {
        summary: 'The files a build installed, in path order',
        tags: ['builds'],
        params: BuildParamsSchema,
        querystring: z.object({
          limit: LimitSchema(10_000, 1000),
          after: z.string().max(4096).optional().describe("the previous page's `next`"),
        }),
        response: { 200: BuildFilesSchema, ...errorResponses },
      },
    },
    async (request) => {
      if (!(await buildExists(deps.db, request.params.id))) throw notFound(`build ${request.params.id}`);
      return buildFiles(deps.db, request.params.id, request.query);
    },
  );
}
