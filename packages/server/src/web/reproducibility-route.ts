import type { FastifyInstance } from 'fastify';
import { readTrustSummary } from '@kiln/shared';
import { getBuild } from '../db/build-queries.js';
import type { ServerDeps } from '../http/deps.js';
import { BuildIdSchema } from '../schemas/common.js';
import type { WebAssets } from './assets.js';
import { PAGE, asPage } from './page-headers.js';
import { buildTitle } from './views/build-page.js';
import { errorPage, page } from './views/layout.js';
import { reproducibilityBody } from './views/reproducibility-page.js';

/** `/builds/{id}/reproducibility`: the check's variations, differing files and diffoscope's text, for people. */
export function reproducibilityRoute(app: FastifyInstance, deps: ServerDeps, assets: WebAssets): void {
  app.get<{ Params: { id: string } }>('/builds/:id/reproducibility', PAGE, async (request, reply) => {
    const { id } = request.params;
    const valid = BuildIdSchema.safeParse(id).success;
    const [build, trust] = valid
      ? await Promise.all([getBuild(deps.db, id, deps.arch), readTrustSummary(deps.db, id)])
      : [null, null];
    if (!build || !trust?.reproducibility) {
      const message = build ? `Build ${id} was not checked for reproducibility.` : `There is no build ${id}.`;
      return asPage(reply, 404).send(errorPage(assets.urls, 'No reproducibility check', message));
    }
    const title = buildTitle(build);
    return asPage(reply).send(
      page(
        { title: `${title}: reproducibility`, page: 'reproducibility', assets: assets.urls },
        reproducibilityBody(id, title, trust.reproducibility),
      ),
    );
  });
}
