import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildExists, logAttempt } from '@kiln/shared';
import { badParameter, notFound } from '../http/api-error.js';
import type { ServerDeps } from '../http/deps.js';
import { followLog } from '../live/log-follower.js';
import { formatCursor, parseCursor, readLogAfter, type LogCursor } from '../live/log-queries.js';
import { SseWriter } from '../live/sse-writer.js';
import { BuildParamsSchema } from '../schemas/builds.js';
import { errorResponses } from '../schemas/common.js';

const LOG_DESCRIPTION = `As text/plain: the log of the build's latest attempt (or \`attempt\`).
With \`Accept: text/event-stream\`: every attempt's log from its first line, then live until the build ends.
Each \`log\` event has the id \`<attempt>:<seq>\` and data \`{attempt, seq, stage, stream, text}\`; \`stage\`
events (no id) tell stages starting and finishing; the \`end\` event carries \`{status, attempt}\`. Reconnect with
\`Last-Event-ID\` to resume after the last line received, with no gap and no repeat; \`after\` does the same
for a first connection (a page that already shows the log up to a row); the header wins when both are sent.`;

/** Open event streams, so that closing the server ends them instead of waiting for clients. */
export type OpenStreams = Set<AbortController>;

export function buildLogRoutes(app: FastifyInstance, deps: ServerDeps, streams: OpenStreams): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/builds/:id/log',
    {
      schema: {
        summary: "A build's log, as text or as a live event stream",
        description: LOG_DESCRIPTION,
        tags: ['builds'],
        params: BuildParamsSchema,
        querystring: z.object({
          attempt: z.coerce
            .number({ message: 'must be a whole number from 1' })
            .int({ message: 'must be a whole number from 1' })
            .min(1, { message: 'must be a whole number from 1' })
            .optional(),
          after: z
            .string()
            .max(40)
            .optional()
            .describe('event stream only: start after this `<attempt>:<seq>` (as an event id)'),
        }),
        headers: z.object({
          'last-event-id': z.string().max(40).optional().describe('resume an event stream after this event'),
        }),
        response: {
          200: z.string().describe('the log (text/plain) or an event stream (text/event-stream)'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!(await buildExists(deps.db, id))) throw notFound(`build ${id}`);
      if (wantsEvents(request)) {
        const header = request.headers['last-event-id'];
        const given = header ?? request.query.after;
        const after = given ? parseCursor(given) : null;
        if (given && !after) {
          const name = header ? 'header.last-event-id' : 'query.after';
          throw badParameter(name, 'must be <attempt>:<seq> as sent in an event id');
        }
        return stream(request, reply, deps, streams, id, after);
      }
      const attempt = request.query.attempt ?? (await logAttempt(deps.db, id));
      void reply.type('text/plain; charset=utf-8');
      if (attempt === null) return '';
      return plainLog(deps, id, attempt);
    },
  );
}

function wantsEvents(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

async function plainLog(deps: ServerDeps, id: string, attempt: number): Promise<string> {
  const parts: string[] = [];
  let cursor: LogCursor = { attempt, seq: -1 };
  for (;;) {
    const rows = (await readLogAfter(deps.db, id, cursor)).filter((r) => r.attempt === attempt);
    for (const row of rows) parts.push(row.text);
    if (rows.length < 1000) return parts.join('');
    cursor = rows[rows.length - 1]!;
  }
}

async function stream(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ServerDeps,
  streams: OpenStreams,
  id: string,
  after: LogCursor | null,
): Promise<void> {
  const abort = new AbortController();
  streams.add(abort);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  res.on('close', () => abort.abort());
  const sse = new SseWriter(res);
  res.write('retry: 1000\n\n');
  try {
    for await (const event of followLog({
      db: deps.db,
      live: deps.live,
      buildId: id,
      after,
      signal: abort.signal,
      ...(deps.followPollMs ? { pollMs: deps.followPollMs } : {}),
    })) {
      if (abort.signal.aborted) break;
      if (event.type === 'log') {
        const { attempt, seq, stage, stream: kind, text } = event.row;
        await sse.send('log', { attempt, seq, stage, stream: kind, text }, formatCursor(event.row));
      } else if (event.type === 'stage') {
        await sse.send('stage', event.body);
      } else {
        await sse.send('end', { status: event.status, attempt: event.attempt });
        break;
      }
    }
  } catch (err) {
    request.log.warn({ err, buildId: id }, 'log stream ended by an error');
    if (!res.writableEnded) await sse.send('error', { message: 'the server could not go on; reconnect to resume' });
  } finally {
    sse.end();
    streams.delete(abort);
  }
}
