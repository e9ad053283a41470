import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readTrustSummary } from '@kiln/shared';
import { buildExists } from '../db/build-queries.js';
import { notFound } from '../http/api-error.js';
import type { ServerDeps } from '../http/deps.js';
import { BuildParamsSchema } from '../schemas/builds.js';
import { errorResponses } from '../schemas/common.js';
import { readAttestation } from '../trust/attestation-queries.js';

const KINDS = {
  sbom: {
    summary: "A build's SBOM (CycloneDX 1.6 JSON)",
    description:
      'The package as the main component, every installed file with its sha256, what its ELF files need, and ' +
      "the compiler image's Debian packages as build-time components: the document written next to the artifact.",
    what: 'an SBOM',
  },
  provenance: {
    summary: "A build's SLSA v1 provenance, in a DSSE envelope signed by the farm's key",
    description:
      "An in-toto statement about the artifact (its sha256), base64 in the envelope's payload, signed with the " +
      "OpenPGP key of /repo/key.asc over DSSE's pre-authentication encoding. `kiln verify` checks it.",
    what: 'a provenance (it did not succeed, or its agent has no KILN_SIGNING_KEY)',
  },
} as const;

const ReproducibilitySchema = z
  .object({
    status: z.enum(['reproducible', 'unreproducible', 'error']),
    differing: z.array(z.string()).describe('paths whose content, mode or link target differ, or that one build lacks'),
    differences: z
      .array(z.object({ path: z.string(), diff: z.string().describe("diffoscope's text, capped") }))
      .optional(),
    variations: z.record(z.string(), z.string()).describe('what the second build varied'),
    durationMs: z.number(),
    error: z.string().optional(),
  })
  .describe("the reproducibility check's verdict");

/** `GET /api/v1/builds/{id}/sbom` and `/provenance`: the documents as recorded, with their sha256 as ETag. */
export function buildAttestationRoutes(app: FastifyInstance, deps: ServerDeps): void {
  for (const kind of ['sbom', 'provenance'] as const) {
    const about = KINDS[kind];
    app.withTypeProvider<ZodTypeProvider>().get(
      `/api/v1/builds/:id/${kind}`,
      {
        schema: {
          summary: about.summary,
          description: about.description,
          tags: ['builds'],
          params: BuildParamsSchema,
          response: { 200: z.string().describe(`the document (JSON)`), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const found = await readAttestation(deps.db, id, kind);
        if (!found) {
          if (!(await buildExists(deps.db, id))) throw notFound(`build ${id}`);
          throw notFound(`${about.what} of build ${id}`);
        }
        return reply.header('content-type', found.mediaType).header('etag', `"${found.sha256}"`).send(found.body);
      },
    );
  }

  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/builds/:id/reproducibility',
    {
      schema: {
        summary: "A build's reproducibility check: built twice with a varied environment, payloads compared",
        description:
          'Made when the manifest says `verify: [reproducible]` or the build fell in KILN_VERIFY_REPRODUCIBLE. ' +
          "`differing` lists the files that differ; `differences` shows diffoscope's text for the first few.",
        tags: ['builds'],
        params: BuildParamsSchema,
        response: { 200: ReproducibilitySchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const trust = await readTrustSummary(deps.db, id);
      if (!trust) throw notFound(`build ${id}`);
      if (!trust.reproducibility) throw notFound(`a reproducibility check of build ${id}`);
      return trust.reproducibility;
    },
  );
}
