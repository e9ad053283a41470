import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Negotiator } from '@fastify/accept-negotiator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fresh from 'fresh';
import type { AnswerCache, KeptAnswer } from './answer-cache.js';

/** What `cachedAnswer` keeps an answer by. */
export interface KeepOptions<T> {
  /** The tables the answer is read from (cache/answer-tables.ts). */
  tables: readonly string[];
  /** The build the answer shows alone, if it does: other builds' changes leave it kept. */
  build?: (answer: T) => string;
  /** A shorter time to keep this answer (an answer that time alone changes). */
  ttlMs?: (answer: T) => number | undefined;
}

/** Answers that show a running build: `stalled` turns true with time alone (a lease runs out), no write says so. */
export const RUNNING_TTL_MS = 2_000;

const JSON_TYPE = 'application/json; charset=utf-8';
const encodings = new Negotiator({ supportedValues: ['gzip', 'identity'], cache: new Map() });

/**
 * Sends the kept answer to this GET when there is one (`x-kiln-cache: hit`),
 * else reads it with `read`, keeps it gzipped until what it was read from
 * changes, and sends it. Errors (404, 400) are never kept. The key is
 * the URL as asked (path and query string): the same URL is the same answer
 * for every reader who passed authorisation.
 *
 * Every such answer carries a weak entity tag of its JSON and `Vary:
 * Accept-Encoding`: a client that asks again with `If-None-Match` gets 304
 * while nothing changed, one that accepts gzip gets the kept bytes as they
 * are, any other the JSON.
 */
export async function cachedAnswer<T>(
  cache: AnswerCache | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  read: () => Promise<T>,
  keep: KeepOptions<T>,
): Promise<T | FastifyReply> {
  if (!cache) return read();
  const key = request.url;
  const kept = cache.get(key);
  if (kept !== undefined) return sendKept(request, reply.header('x-kiln-cache', 'hit'), kept);
  const ticket = cache.ticket();
  const answer = await read();
  // The route's own serializer: tests check every answer against its schema there.
  const json = Buffer.from(reply.serialize(answer) as string);
  const etag = entityTag(json);
  if (cache.current(ticket, keep.tables)) {
    const build = keep.build?.(answer);
    const source = build === undefined ? { tables: keep.tables } : { tables: keep.tables, build };
    cache.keep(key, ticket, { gzip: ownBytes(gzipSync(json)), etag }, source, keep.ttlMs?.(answer));
  }
  reply
    .header('x-kiln-cache', ticket === null ? 'off' : 'miss')
    .header('vary', 'accept-encoding')
    .header('etag', etag);
  if (fresh(request.headers, { etag })) return reply.code(304).send();
  return reply.type(JSON_TYPE).send(json);
}

function sendKept(request: FastifyRequest, reply: FastifyReply, kept: KeptAnswer): FastifyReply {
  reply.header('vary', 'accept-encoding').header('etag', kept.etag);
  if (fresh(request.headers, { etag: kept.etag })) return reply.code(304).send();
  const accepted = request.headers['accept-encoding'];
  if (accepted && encodings.negotiate(accepted) === 'gzip')
    return reply.type(JSON_TYPE).header('content-encoding', 'gzip').send(kept.gzip);
  return reply.type(JSON_TYPE).send(gunzipSync(kept.gzip));
}

/**
 * `bytes` in a buffer of their own: zlib's answer is a view of its 16 KiB
 * output chunk, and a kept view keeps the whole chunk alive (the cache would
 * count 3 KiB and hold 16 KiB).
 */
function ownBytes(bytes: Buffer): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(own);
  return own;
}

/** A weak entity tag of an answer's JSON (weak: the gzipped and the plain answer carry the same). */
function entityTag(json: Buffer): string {
  return `W/"${createHash('sha1').update(json).digest('base64url')}"`;
}
