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

/** A kept answer as the cache holds it: the answer and the tables it was read from. */
interface Entry {
  answer: KeptAnswer;
  tables: readonly string[];
}

/**
 * The server's memory of its own public read answers (the JSON it sent,
 * gzipped, as bytes outside V8's heap: kept answers do not make the garbage
 * collector grow the heap, a file list takes a sixth of its size, and a
 * client that accepts gzip is sent them without encoding them again).
 *
 * Each answer is kept with the tables it was read from, and goes when one
 * of them changes (a committed change the database notified, or a build
 * event for the build tables): a build's heartbeat or stage does not take
 * the package and search answers with it. An answer is kept only if none of
 * its tables changed while it was being read (each change is numbered; the
 * read's ticket is the number it started at), so a read that raced a change
 * never outlives it. While the server cannot hear of changes (the listening
 * connection is down), nothing is kept or served.
 *
 * Answers are the same for every reader who may read at all: authorisation
 * runs before the cache is asked, and nothing per user is cached.
 */
export class AnswerCache {
  /** The number of the newest change. */
  private changes = 0;
  /** The number of the newest change to each table, and of the newest change to everything. */
  private readonly changedAt = new Map<string, number>();
  private everythingChangedAt = 0;
  private listening = false;
  private readonly answers: LRUCache<string, Entry>;
  readonly stats = { hits: 0, misses: 0, cleared: 0, evicted: 0 };

  constructor(options: AnswerCacheOptions) {
    this.answers = new LRUCache<string, Entry>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) => entry.answer.gzip.byteLength + entry.answer.etag.length + key.length,
      ttl: options.ttlMs,
      ttlAutopurge: false,
    });
  }

  /** The kept answer for `key`, if any. */
  get(key: string): KeptAnswer | undefined {
    if (!this.listening) return undefined;
    const entry = this.answers.get(key);
    if (entry === undefined) this.stats.misses++;
    else this.stats.hits++;
    return entry?.answer;
  }

  /** Taken before reading the database; `keep` refuses an answer one of whose tables changed since. */
  ticket(): number | null {
    return this.listening ? this.changes : null;
  }

  /** Whether an answer read from `tables` with `ticket` may still be kept. */
  current(ticket: number | null, tables: readonly string[]): ticket is number {
    if (ticket === null || !this.listening || this.everythingChangedAt > ticket) return false;
    return tables.every((table) => (this.changedAt.get(table) ?? 0) <= ticket);
  }

  keep(key: string, ticket: number | null, answer: KeptAnswer, tables: readonly string[], ttlMs?: number): void {
    if (!this.current(ticket, tables)) return;
    this.answers.set(key, { answer, tables }, ttlMs === undefined ? {} : { ttl: ttlMs });
  }

  /** `tables` changed: the answers read from any of them go, and reads of them in flight may not keep theirs. */
  changed(tables: readonly string[]): void {
    const at = ++this.changes;
    for (const table of tables) this.changedAt.set(table, at);
    const changed = new Set(tables);
    const gone = [...this.answers.entries()].filter(([, entry]) => entry.tables.some((t) => changed.has(t)));
    for (const [key] of gone) this.answers.delete(key);
    this.stats.evicted += gone.length;
  }

  /** Anything may have changed: every answer goes, and reads in flight may not keep theirs. */
  clear(): void {
    this.everythingChangedAt = ++this.changes;
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
