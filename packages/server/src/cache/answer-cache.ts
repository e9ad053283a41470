import { LRUCache } from 'lru-cache';

export interface AnswerCacheOptions {
  /** Bytes of answers (and their keys) kept at most; the least recently used go first. */
  maxBytes: number;
  /** How long an answer is kept at most, even when nothing changed (a safety net). */
  ttlMs: number;
}

/** Where an answer came from, for the `x-kiln-cache` header. */
export type CacheOutcome = 'hit' | 'miss' | 'off';

/**
 * The server's memory of its own public read answers (the JSON it sent, as
 * bytes outside V8's heap: kept answers do not make the garbage collector
 * grow the heap, and are sent without encoding them again),
 * emptied on every committed change to the package database and on every
 * build event. An answer is kept only if nothing changed while it was being
 * read (its ticket is still the current generation), so a read that raced a
 * change never outlives it. While the server cannot hear of changes (the
 * listening connection is down), nothing is kept or served.
 *
 * Answers are the same for every reader who may read at all: authorisation
 * runs before the cache is asked, and nothing per user is cached.
 */
export class AnswerCache {
  private generation = 0;
  private listening = false;
  private readonly answers: LRUCache<string, Buffer>;
  readonly stats = { hits: 0, misses: 0, cleared: 0 };

  constructor(options: AnswerCacheOptions) {
    this.answers = new LRUCache<string, Buffer>({
      maxSize: options.maxBytes,
      sizeCalculation: (body, key) => body.byteLength + key.length,
      ttl: options.ttlMs,
      ttlAutopurge: false,
    });
  }

  /** The kept answer for `key`, if any. */
  get(key: string): Buffer | undefined {
    if (!this.listening) return undefined;
    const body = this.answers.get(key);
    if (body === undefined) this.stats.misses++;
    else this.stats.hits++;
    return body;
  }

  /** Taken before reading the database; `keep` refuses an answer whose ticket is no longer current. */
  ticket(): number | null {
    return this.listening ? this.generation : null;
  }

  keep(key: string, ticket: number | null, body: Buffer, ttlMs?: number): void {
    if (ticket === null || ticket !== this.generation || !this.listening) return;
    this.answers.set(key, body, ttlMs === undefined ? {} : { ttl: ttlMs });
  }

  /** Something changed: every answer goes, and reads in flight may not keep theirs. */
  clear(): void {
    this.generation++;
    this.stats.cleared++;
    this.answers.clear();
  }

  /** Whether the server hears of changes; answers are kept only while it does. */
  setListening(listening: boolean): void {
    this.clear();
    this.listening = listening;
  }

  get size(): number {
    return this.answers.size;
  }
}
