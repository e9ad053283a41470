import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnswerCache } from './answer-cache.js';

/** Answers that show a running build: `stalled` turns true with time alone (a lease runs out), no write says so. */
export const RUNNING_TTL_MS = 2_000;

/**
 * Sends the kept answer to this GET when there is one (`x-kiln-cache: hit`),
 * else reads it with `read`, keeps its JSON and returns it for fastify to send.
 * `ttlMs` may shorten how long a particular answer is kept. Errors (404, 400)
 * are never kept. The key is the URL as asked (path and query string): the
 * same URL is the same answer for every reader who passed authorisation.
 */
export async function cachedAnswer<T>(
  cache: AnswerCache | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  read: () => Promise<T>,
  ttlMs?: (answer: T) => number | undefined,
): Promise<T | FastifyReply> {
  if (!cache) return read();
  const key = request.url;
  const kept = cache.get(key);
  if (kept !== undefined) {
    return reply.header('x-kiln-cache', 'hit').type('application/json; charset=utf-8').send(kept);
  }
  const ticket = cache.ticket();
  const answer = await read();
  if (ticket !== null) cache.keep(key, ticket, ownBytes(JSON.stringify(answer)), ttlMs?.(answer));
  void reply.header('x-kiln-cache', ticket === null ? 'off' : 'miss');
  return answer;
}

/**
 * The UTF-8 bytes of `json` in a buffer of their own: Buffer.from would put a
 * small answer in a slice of Node's shared 8 KiB pool, and a kept slice keeps
 * the whole slab alive (the cache would count 500 bytes and hold 8 KiB).
 */
function ownBytes(json: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
  bytes.write(json);
  return bytes;
}
