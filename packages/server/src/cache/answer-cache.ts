import { LRUCache } from 'lru-cache';

export interface AnswerCacheOptions {
  /** Bytes of answers (and their keys) kept at most; the least recently used go first. */
  maxBytes: number;
  /** How long an answer is kept at most, even when nothing changed (a safety net). */
  ttlMs: number;
}

/** Where an answer came from, for the `x-kiln-cache` header. */
export type CacheOutcome = 'hit' | 'miss' | 'off';

/** A kept answer: its JSON gzipped (what a client that accepts gzip is sent as is), and its entity tag. */
export interface KeptAnswer {
  gzip: Buffer;
  etag: string;
}

/**
 * The server's memory of its own public read answers (the JSON it sent,
 * gzipped, as bytes outside V8's heap: kept answers do not make the garbage
 * collector grow the heap, a file list takes a sixth of its size, and a
 * client that accepts gzip is sent them without encoding them again),
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
  private readonly answers: LRUCache<string, KeptAnswer>;
  readonly stats = { hits: 0, misses: 0, cleared: 0 };

  constructor(options: AnswerCacheOptions) {
    this.answers = new LRUCache<string, KeptAnswer>({
      maxSize: options.maxBytes,
      sizeCalculation: (kept, key) => kept.gzip.byteLength + kept.etag.length + key.length,
      ttl: options.ttlMs,
      ttlAutopurge: false,
    });
  }

  /** The kept answer for `key`, if any. */
  get(key: string): KeptAnswer | undefined {
    if (!this.listening) return undefined;
    const kept = this.answers.get(key);
    if (kept === undefined) this.stats.misses++;
    else this.stats.hits++;
    return kept;
  }

  /** Taken before reading the database; `keep` refuses an answer whose ticket is no longer current. */
  ticket(): number | null {
    return this.listening ? this.generation : null;
  }

  /** Whether an answer read with `ticket` may still be kept. */
  current(ticket: number | null): ticket is number {
    return ticket !== null && ticket === this.generation && this.listening;
  }

  keep(key: string, ticket: number | null, answer: KeptAnswer, ttlMs?: number): void {
    if (!this.current(ticket)) return;
    this.answers.set(key, answer, ttlMs === undefined ? {} : { ttl: ttlMs });
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
