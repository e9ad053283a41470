import { buildState, type BuildStatus, type Queryable } from '@kiln/shared';
import type { LiveEvent, LiveEvents } from './live-feed.js';
import { isAfter, readLogAfter, type LogCursor, type StoredLogRow } from './log-queries.js';

export type FollowEvent =
  | { type: 'log'; row: StoredLogRow }
  | { type: 'stage'; body: Record<string, unknown> }
  | { type: 'end'; status: BuildStatus | 'missing'; attempt: number };

export interface FollowOptions {
  db: Queryable;
  live: LiveEvents;
  buildId: string;
  /** Resume after this row (`Last-Event-ID`); null: from the first line. */
  after: LogCursor | null;
  signal: AbortSignal;
  /** How often the database is read when no event came (the safety net for lost events). */
  pollMs?: number;
  /** How soon the database is read again when an event showed a row it does not have yet. */
  gapRetryMs?: number;
}

const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'errored', 'cancelled']);
const MAX_HELD_ROWS = 5000;

/**
 * A build's log from `after` to its end, each stored row exactly once and in
 * (attempt, seq) order. The database is the truth and is read first; live
 * events make new rows arrive at once, but a row from an event is passed on
 * only when it is the very next one after what was sent. Anything else (a
 * gap, a new attempt, an event lost while RabbitMQ restarted) sends the
 * follower back to the database, so no line is lost or repeated whichever
 * way it arrives.
 */
export async function* followLog(options: FollowOptions): AsyncGenerator<FollowEvent> {
  const { db, live, buildId, signal } = options;
  const pollMs = options.pollMs ?? 1000;
  const gapRetryMs = options.gapRetryMs ?? 150;
  let cursor: LogCursor | null = options.after;
  const held: StoredLogRow[] = [];
  const stages: Array<Record<string, unknown>> = [];
  let finishedSeen = false;
  let wake: (() => void) | null = null;
  let woken = false;
  const notify = (): void => {
    woken = true;
    wake?.();
  };
  const unsubscribe = live.subscribe(buildId, (event: LiveEvent) => {
    if (event.kind === 'log') {
      if (held.length < MAX_HELD_ROWS) held.push(...event.rows.map((row) => ({ ...row, attempt: event.attempt })));
    } else if (event.kind === 'stage') stages.push(event.body);
    else if (event.kind === 'finished') finishedSeen = true;
    notify();
  });
  signal.addEventListener('abort', notify, { once: true });
  try {
    let readDatabase = true;
    for (;;) {
      if (signal.aborted) return;
      if (readDatabase) {
        for (;;) {
          const rows = await readLogAfter(db, buildId, cursor);
          for (const row of rows) {
            cursor = row;
            yield { type: 'log', row };
          }
          if (rows.length < 1000 || signal.aborted) break;
        }
        readDatabase = false;
      }
      // Live rows: the next one goes out; old ones are dropped; a gap means the database is behind.
      held.sort((a, b) => a.attempt - b.attempt || a.seq - b.seq);
      let gap = false;
      while (held.length > 0) {
        const row = held[0]!;
        if (!isAfter(row, cursor)) {
          held.shift();
        } else if (cursor && row.attempt === cursor.attempt && row.seq === cursor.seq + 1) {
          held.shift();
          cursor = row;
          yield { type: 'log', row };
        } else {
          gap = true;
          break;
        }
      }
      while (stages.length > 0) yield { type: 'stage', body: stages.shift()! };
      if (gap) readDatabase = true;
      if (finishedSeen) {
        const end = await finish(db, buildId, cursor);
        for (const row of end.rows) yield { type: 'log', row };
        yield end.event;
        return;
      }
      const waited = await sleepUnlessWoken(gap ? gapRetryMs : pollMs);
      if (!waited) continue;
      // Nothing came for a while: the database says whether the build ended (its event may be lost).
      const state = await buildState(db, buildId);
      if (!state || FINISHED.has(state.status)) {
        const end = await finish(db, buildId, cursor);
        for (const row of end.rows) yield { type: 'log', row };
        yield end.event;
        return;
      }
      readDatabase = true;
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', notify);
  }

  /** Resolves true when the time ran out, false when an event (or abort) came first. */
  function sleepUnlessWoken(ms: number): Promise<boolean> {
    if (woken) {
      woken = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve(true);
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        woken = false;
        resolve(false);
      };
    });
  }
}

/** What is left after the build's final transaction, and the end event with its status. */
async function finish(
  db: Queryable,
  buildId: string,
  from: LogCursor | null,
): Promise<{ rows: StoredLogRow[]; event: FollowEvent }> {
  const rows: StoredLogRow[] = [];
  let cursor = from;
  for (;;) {
    const page = await readLogAfter(db, buildId, cursor);
    rows.push(...page);
    cursor = page[page.length - 1] ?? cursor;
    if (page.length < 1000) break;
  }
  const state = await buildState(db, buildId);
  return { rows, event: { type: 'end', status: state?.status ?? 'missing', attempt: state?.attempt ?? 0 } };
}
