import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { diffOf } from '@kiln/shared';
import { notFound } from '../http/api-error.js';
import type { ServerDeps } from '../http/deps.js';
import { BuildDiffSchema } from '../schemas/build-diff.js';
import { BuildParamsSchema } from '../schemas/builds.js';
import { BuildIdSchema, errorResponses } from '../schemas/common.js';

export function buildDiffRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/builds/:id/diff',
    {
      schema: {
        summary:
          'What a build changed: against the build it was compared with when recorded (the previous build of its version, else of the previous version), or `against`',
        tags: ['builds'],
        params: BuildParamsSchema,
        querystring: z.object({ against: BuildIdSchema.optional().describe('compare with this build instead') }),
        response: { 200: BuildDiffSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const found = await diffOf(deps.db, id, request.query.against);
      if ('diff' in found) return found.diff;
      if (found.missing === 'build') throw notFound(`build ${id}`);
      if (found.missing === 'against') throw notFound(`build ${request.query.against ?? ''}`);
      throw notFound(`an earlier succeeded build to compare build ${id} with`);
    },
  );
}
