import send from '@fastify/send';
import { artifactMediaType } from '@kiln/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../http/api-error.js';
import type { ServerDeps } from '../http/deps.js';
import { parseArtifactName } from '../repo/artifact-store.js';
import { errorResponses } from '../schemas/common.js';

const text = (what: string) => ({ 200: z.string().describe(what), ...errorResponses });

/**
 * The package repository a package manager installs from: the index of every
 * current package version, its detached OpenPGP signature, the farm's public
 * key, and the artifacts (with ETag, Last-Modified and Range).
 */
export function repoRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/repo/index.json',
    {
      schema: {
        summary: 'Every current package version per arch: files, sizes, sha256, provides, needs, artifact URL',
        tags: ['repository'],
        response: text('the index (JSON, byte for byte what index.json.asc signs)'),
      },
    },
    async (request, reply) => {
      const snapshot = await deps.index.current();
      return conditional(request, reply, snapshot.etag, 'application/json', snapshot.bytes);
    },
  );

  api.get(
    '/repo/index.json.asc',
    {
      schema: {
        summary: 'Detached OpenPGP signature of index.json',
        tags: ['repository'],
        response: text('an armored signature'),
      },
    },
    async (request, reply) => {
      const snapshot = await deps.index.current();
      if (!snapshot.signature) throw notFound('a signature (this server has no KILN_SIGNING_KEY)');
      return conditional(request, reply, snapshot.etag, 'application/pgp-signature', snapshot.signature);
    },
  );

  api.get(
    '/repo/key.asc',
    {
      schema: {
        summary: "The farm's public OpenPGP key, which signs index.json",
        tags: ['repository'],
        response: text('an armored public key'),
      },
    },
    async (_request, reply) => {
      if (!deps.signer) throw notFound('a signing key (this server has no KILN_SIGNING_KEY)');
      return reply.type('application/pgp-keys').send(deps.signer.publicKey);
    },
  );

  api.get(
    '/repo/artifacts/:file',
    {
      schema: {
        summary: "A package's artifact, <name>-<version>-<arch>.tar.zst or .tar.gz (packages.artifact_format)",
        tags: ['repository'],
        params: z.object({ file: z.string().max(300) }),
        response: {
          200: z.string().describe('the compressed tar (Range requests are honoured)'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const wanted = parseArtifactName(request.params.file);
      if (!wanted) throw notFound(`artifact ${request.params.file}`);
      // Only under the name its format gives it: a .tar.gz URL for a .tar.zst artifact is a 404.
      const { rows } = await deps.db.query<{ artifact: string | null }>(
        `SELECT artifact FROM packages
          WHERE name || '-' || version = $1 AND arch = $3 AND artifact IS NOT NULL
            AND COALESCE(artifact_format, 'tar.gz') = $2`,
        [wanted.stem, wanted.format, wanted.arch],
      );
      const relative = rows[0]?.artifact ? deps.artifacts.relative(rows[0].artifact) : null;
      if (!relative) throw notFound(`artifact ${request.params.file}`);
      const result = await send(request.raw, `/${relative}`, {
        root: deps.artifacts.root,
        dotfiles: 'deny',
        index: false,
        maxAge: '1h',
      });
      if (result.type !== 'file') throw notFound(`artifact ${request.params.file}`);
      reply.hijack();
      reply.raw.writeHead(result.statusCode, {
        ...result.headers,
        'content-type': artifactMediaType(wanted.format),
        'content-disposition': `attachment; filename="${request.params.file}"`,
      });
      result.stream.pipe(reply.raw);
    },
  );
}

function conditional(
  request: FastifyRequest,
  reply: FastifyReply,
  etag: string,
  type: string,
  body: Buffer | string,
): FastifyReply {
  void reply.header('etag', etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(type).send(body);
}
