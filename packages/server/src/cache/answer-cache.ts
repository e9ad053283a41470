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

/** What an answer was read from: tables, and when it shows one build alone, that build's id. */
export interface AnswerSource {
  tables: readonly string[];
  /** The answer reads only rows of this build (in each of `tables`, those whose build is this one). */
  build?: string;
}

/** A kept answer as the cache holds it. */
interface Entry extends AnswerSource {
  answer: KeptAnswer;
}

/**
 * The server's memory of its own public read answers (the JSON it sent,
 * gzipped, as bytes outside V8's heap: kept answers do not make the garbage
 * collector grow the heap, a file list takes a sixth of its size, and a
 * client that accepts gzip is sent them without encoding them again).
 *
 * Each answer is kept with the tables it was read from (and the build, when
 * it shows one build alone), and goes when one of them changes: a committed
 * change the database notified, or a build event for the build tables. A
 * build's stage takes that build's answer and the build lists with it, not
 * other builds' answers, nor the package and search answers. An answer is
 * kept only if none of its tables changed while it was being read (each
 * change is numbered; the read's ticket is the number it started at), so a
 * read that raced a change never outlives it. While the server cannot hear of changes (the listening
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

  keep(key: string, ticket: number | null, answer: KeptAnswer, source: AnswerSource, ttlMs?: number): void {
    if (!this.current(ticket, source.tables)) return;
    this.answers.set(key, { ...source, answer }, ttlMs === undefined ? {} : { ttl: ttlMs });
  }

  /**
   * Rows of `tables` changed, those of `builds` only (null: any): the answers
   * read from them go, and reads of those tables in flight may not keep
   * theirs (whatever build they read: a ticket is per table).
   */
  changed(tables: readonly string[], builds: readonly string[] | null = null): void {
    const at = ++this.changes;
    for (const table of tables) this.changedAt.set(table, at);
    const changed = new Set(tables);
    const touched = builds && new Set(builds);
    const gone = [...this.answers.entries()].filter(
      ([, entry]) =>
        entry.tables.some((t) => changed.has(t)) &&
        (touched === null || entry.build === undefined || touched.has(entry.build)),
    );
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
