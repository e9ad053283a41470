import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { InvalidInputError } from '@kiln/shared';
import { ApiError } from './api-error.js';

interface ValidationIssue {
  instancePath: string;
  message?: string;
}

/** `query.limit: must be a whole number from 1 to 500`: the parameter first, so a client knows what to fix. */
export function describeValidation(context: string | undefined, issues: readonly ValidationIssue[]): string {
  const where = context === 'querystring' ? 'query' : (context ?? 'request');
  return issues
    .map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return `${path ? `${where}.${path}` : where}: ${issue.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/**
 * Every error leaves as `{error: {code, message}}`; unknown routes are 404s in the same shape,
 * except for a browser asking for a page outside the API and the repository (`notFoundPage`).
 */
export function installErrorHandling(
  app: FastifyInstance,
  options: { notFoundPage?: (reply: FastifyReply, path: string) => boolean } = {},
): void {
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const wantsPage =
      request.method === 'GET' &&
      (request.headers.accept ?? '').includes('text/html') &&
      !path.startsWith('/api/') &&
      !path.startsWith('/repo/');
    if (wantsPage && options.notFoundPage?.(reply, path)) return;
    void reply
      .code(404)
      .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const send = (status: number, code: string, message: string) =>
      reply.code(status).send({ error: { code, message } });
    if (err instanceof ApiError) return send(err.statusCode, err.code, err.message);
    if (hasZodFastifySchemaValidationErrors(err)) {
      return send(400, 'invalid_parameter', describeValidation(err.validationContext, err.validation));
    }
    if (err instanceof InvalidInputError) return send(400, 'invalid_input', err.message);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(413, 'body_too_large', 'the request body is larger than the 64 KiB limit');
    }
    if (err.validation)
      return send(400, 'invalid_parameter', describeValidation(err.validationContext, err.validation));
    if (isResponseSerializationError(err)) {
      const issues = err.cause.issues;
      request.log.error({ issues: issues.slice(0, 3), count: issues.length }, 'a response did not match its schema');
      return send(500, 'internal', 'the server could not form its answer');
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return send(status, (err.code ?? 'bad_request').toLowerCase(), err.message);
    request.log.error({ err }, 'request failed');
    return send(500, 'internal', 'the server failed; its log says why');
  });
}
