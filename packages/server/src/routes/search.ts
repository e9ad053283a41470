import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ANSWER_TABLES } from '../cache/answer-tables.js';
import { cachedAnswer } from '../cache/cached-answer.js';
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
    embeds: Term.regex(/^[a-z0-9][a-z0-9+.-]*$/, 'must be a Debian package name, e.g. libc6-dev')
      .optional()
      .describe('a library package of the compiler image (Static-Built-Using): which static executables embed it'),
  })
  .refine((q) => Object.values(q).filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of path, soname, needs, sha256, embeds',
  });

export function searchRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/search',
    {
      schema: {
        summary:
          'Files of current packages by installed path, provided SONAME, needed library, sha256, or embedded library package (static executables)',
        tags: ['search'],
        querystring: SearchQuerySchema,
        response: { 200: SearchResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const [by, query] = Object.entries(request.query).find(([, v]) => v !== undefined) as [SearchBy, string];
      const tables = by === 'embeds' ? ANSWER_TABLES.searchEmbeds : ANSWER_TABLES.search;
      return cachedAnswer(
        deps.answers,
        request,
        reply,
        async () => ({ by, query, hits: await searchFiles(deps.db, by, query) }),
        { tables },
      );
    },
  );
}
