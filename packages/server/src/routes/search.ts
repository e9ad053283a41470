import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { searchFiles, type SearchBy } from '../db/search-queries.js';
import type { ServerDeps } from '../http/deps.js';
import { Sha256Schema, errorResponses } from '../schemas/common.js';
import { SearchResultSchema } from '../schemas/packages.js';

const Term = z.string().min(1).max(4096);

const SearchQuerySchema = z
  .object({
    path: Term.startsWith('/', 'must be an absolute path').optional().describe('an installed path'),
    soname: Term.optional().describe('a SONAME: who provides it'),
    needs: Term.optional().describe('a library: who needs it'),
    sha256: Sha256Schema.optional().describe("a file's sha256: which package shipped it"),
  })
  .refine((q) => Object.values(q).filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of path, soname, needs, sha256',
  });

export function searchRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/search',
    {
      schema: {
        summary: 'Files of current packages by installed path, provided SONAME, needed library or sha256',
        tags: ['search'],
        querystring: SearchQuerySchema,
        response: { 200: SearchResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const [by, query] = Object.entries(request.query).find(([, v]) => v !== undefined) as [SearchBy, string];
      return { by, query, hits: await searchFiles(deps.db, by, query, deps.arch) };
    },
  );
}
