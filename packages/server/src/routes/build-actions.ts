import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { cancelBuild, rebuild } from '../db/build-actions.js';
import { requireScope } from '../http/auth.js';
import type { ServerDeps } from '../http/deps.js';
import { AcceptedSchema, BuildParamsSchema, SubmitBodySchema } from '../schemas/builds.js';
import { ErrorSchema, errorResponses } from '../schemas/common.js';

const security = [{ bearer: [] }];
const writeErrors = { ...errorResponses, 409: ErrorSchema, 413: ErrorSchema };

export function buildActionRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/api/v1/builds',
    {
      preHandler: requireScope(deps.db, 'submit'),
      schema: {
        summary: 'Submit a build of a repository (its default branch unless one is named)',
        tags: ['builds'],
        security,
        body: SubmitBodySchema,
        response: { 202: AcceptedSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const { repo, branch, arch } = request.body;
      const result = await deps.submitter.submit({
        repo,
        ...(branch ? { branch } : {}),
        ...(arch ? { arch } : {}),
        trigger: 'api',
      });
      request.log.info(
        { buildId: result.id, token: request.token?.name, warnings: result.warnings },
        'build submitted',
      );
      return reply.code(202).send({ id: result.id, status: 'queued' as const });
    },
  );

  api.post(
    '/api/v1/builds/:id/cancel',
    {
      preHandler: requireScope(deps.db, 'admin'),
      schema: {
        summary: 'Cancel a queued or running build (a running one stops within seconds and ends cancelled)',
        tags: ['builds'],
        security,
        params: BuildParamsSchema,
        response: { 202: AcceptedSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { status } = await cancelBuild(deps.db, deps.live, id, `token "${request.token?.name ?? '?'}"`);
      request.log.info({ buildId: id, token: request.token?.name, status }, 'build cancel requested');
      return reply.code(202).send({ id, status });
    },
  );

  api.post(
    '/api/v1/builds/:id/rebuild',
    {
      preHandler: requireScope(deps.db, 'submit'),
      schema: {
        summary: 'Build the same repository, branch and commit again, as a new build',
        tags: ['builds'],
        security,
        params: BuildParamsSchema,
        response: { 202: AcceptedSchema, ...writeErrors },
      },
    },
    async (request, reply) => {
      const result = await rebuild(deps.db, deps.submitter, request.params.id);
      request.log.info({ buildId: result.id, of: request.params.id, token: request.token?.name }, 'rebuild submitted');
      return reply.code(202).send({ id: result.id, status: 'queued' as const });
    },
  );
}
