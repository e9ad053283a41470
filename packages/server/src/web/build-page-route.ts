import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { getBuild } from '../db/build-queries.js';
import type { ServerDeps } from '../http/deps.js';
import { readLogAfter, type LogCursor } from '../live/log-queries.js';
import { BuildIdSchema } from '../schemas/common.js';
import type { WebAssets } from './assets.js';
import { FINISHED } from './format.js';
import { LogLines } from './log-lines.js';
import { buildPhases, filesWithFacts } from './web-queries.js';
import { PAGE, asPage } from './page-headers.js';
import { buildPageBottom, buildPageTop, buildTitle, sectionMeta } from './views/build-page.js';
import { fileView } from './views/files-table.js';
import { errorPage, pageFrame } from './views/layout.js';
import { LogHtml } from './views/log-html.js';

/** Files shown on a build's page at most (the API pages through all of them). */
export const PAGE_FILE_LIMIT = 5000;
const LOG_PAGE_ROWS = 2000;
const PIECE_CHARS = 64 * 1024;

/**
 * A build's page, streamed: the summary goes out at once and the log's lines
 * follow as they are read, so the browser paints before a long log arrives.
 */
export function buildPageRoute(app: FastifyInstance, deps: ServerDeps, assets: WebAssets): void {
  app.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
    '/builds/:id',
    PAGE,
    async (request, reply) => {
      const { id } = request.params;
      const build = BuildIdSchema.safeParse(id).success ? await getBuild(deps.db, id, deps.arch) : null;
      if (!build) {
        return asPage(reply, 404).send(errorPage(assets.urls, 'No such build', `There is no build ${id}.`));
      }
      const view = fileView(request.query);
      const finished = FINISHED.has(build.status);
      const phases = finished ? await buildPhases(deps.db, id, build.attempt) : [];
      // The files go below the log: read while the log streams.
      const files = finished ? filesWithFacts(deps.db, id, PAGE_FILE_LIMIT) : null;
      files?.catch(() => undefined); // awaited below; a failure ends the stream there
      const frame = pageFrame({ title: buildTitle(build), page: 'build', assets: assets.urls });
      const now = Date.now();
      async function* body(): AsyncGenerator<string> {
        yield frame.head + buildPageTop(build!, phases, now).text;
        const sink = new LogHtml((section) => sectionMeta(build!, section));
        const lines = new LogLines(sink);
        let cursor: LogCursor | null = null;
        for (;;) {
          const rows = await readLogAfter(deps.db, id, cursor, LOG_PAGE_ROWS);
          for (const row of rows) {
            lines.push(row);
            // In pieces, so the browser parses the first lines while the server renders the next.
            if (sink.pending >= PIECE_CHARS) {
              yield sink.take();
              // Let other requests in between, above all the page's style sheet, which its first paint waits for.
              await new Promise((resolve) => setImmediate(resolve));
            }
          }
          const text = sink.take();
          if (text) yield text;
          if (rows.length < LOG_PAGE_ROWS) break;
          cursor = rows[rows.length - 1]!;
        }
        // The browser script goes on from here: with the unfinished last line, which the page shows as it is.
        const state = lines.state();
        lines.endOpen();
        yield sink.close() + buildPageBottom(build!, state, (await files) ?? [], view).text + frame.tail;
      }
      const stream = Readable.from(body());
      stream.on('error', (err) => request.log.warn({ err, buildId: id }, 'the build page stopped while streaming'));
      return asPage(reply).send(stream);
    },
  );
}
