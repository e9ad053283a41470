import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listPackages, packageDetails, packageVersions } from '../db/package-queries.js';
import { ANSWER_TABLES } from '../cache/answer-tables.js';
import { cachedAnswer } from '../cache/cached-answer.js';
import { notFound } from '../http/api-error.js';
import type { ServerDeps } from '../http/deps.js';
import { ArchSchema, LimitSchema, PackageNameSchema, VersionSchema, errorResponses } from '../schemas/common.js';
import { PackageDetailsSchema, PackageListSchema, PackageSchema } from '../schemas/packages.js';

const PACKAGE_ANSWERS = { tables: ANSWER_TABLES.packages };

export function packageRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/api/v1/packages',
    {
      schema: {
        summary: 'Packages by name, each with its newest version',
        tags: ['packages'],
        querystring: z.object({
          limit: LimitSchema(500, 100),
          after: PackageNameSchema.optional().describe("the previous page's `next`"),
        }),
        response: { 200: PackageListSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      cachedAnswer(deps.answers, request, reply, () => listPackages(deps.db, request.query), PACKAGE_ANSWERS),
  );

  api.get(
    '/api/v1/packages/:name',
    {
      schema: {
        summary: 'Every version of a package',
        tags: ['packages'],
        params: z.object({ name: PackageNameSchema }),
        response: { 200: PackageSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      cachedAnswer(
        deps.answers,
        request,
        reply,
        async () => {
          const versions = await packageVersions(deps.db, request.params.name, deps.arch);
          if (versions.length === 0) throw notFound(`package ${request.params.name}`);
          return { name: request.params.name, versions };
        },
        PACKAGE_ANSWERS,
      ),
  );

  api.get(
    '/api/v1/packages/:name/:version',
    {
      schema: {
        summary: 'One version of a package: files, what it provides and needs, its artifact',
        tags: ['packages'],
        params: z.object({ name: PackageNameSchema, version: VersionSchema }),
        querystring: z.object({ arch: ArchSchema.optional() }),
        response: { 200: PackageDetailsSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      cachedAnswer(
        deps.answers,
        request,
        reply,
        async () => {
          const { name, version } = request.params;
          const arch = request.query.arch ?? deps.arch;
          const found = arch === deps.arch ? await packageDetails(deps.db, name, version, deps.arch) : null;
          if (!found) throw notFound(`package ${name} ${version} for ${arch}`);
          return found;
        },
        PACKAGE_ANSWERS,
      ),
  );
}
