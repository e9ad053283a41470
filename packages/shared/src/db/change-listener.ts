import pg from 'pg';
import { backoffDelay, sleep } from '../backoff.js';
import type { Logger } from '../logger.js';

/**
 * The channel migrations 017 and 019 notify on. The payload is the changed
 * table's name, and for the tables whose rows belong to one build, a space
 * and the ids of the builds that changed (comma-separated); the table alone
 * means any of its rows may have changed.
 */
export const CHANGES_CHANNEL = 'kiln_changes';

/** A committed change: the table, and the builds whose rows changed (null: any row of the table). */
export interface DatabaseChange {
  table: string;
  builds: string[] | null;
}

/** Reads a `kiln_changes` payload. */
export function parseChange(payload: string): DatabaseChange {
  const [table = '', ids] = payload.split(' ', 2);
  return { table, builds: ids ? ids.split(',') : null };
}

export interface ChangeListenerOptions {
  url: string;
  logger: Logger;
  /** A committed change (sent by PostgreSQL after the commit). */
  onChange: (change: DatabaseChange) => void;
  /**
   * The listener is connected (true) or lost its connection (false): while
   * it is down, changes go unseen, so whoever relies on them must stop
   * trusting what it derived from the database.
   */
  onState: (listening: boolean) => void;
}

/**
 * One dedicated PostgreSQL connection LISTENing on `kiln_changes`, coming
 * back with backoff when it drops. A pooled connection cannot listen: the
 * pool hands it to other queries and closes it when idle.
 */
export class ChangeListener {
  private client: pg.Client | null = null;
  private readonly stopped = new AbortController();
  private running: Promise<void> | null = null;

  constructor(private readonly options: ChangeListenerOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  async close(): Promise<void> {
    this.stopped.abort();
    await this.client?.end().catch(() => undefined);
    await this.running;
  }

  private async loop(): Promise<void> {
    for (let attempt = 0; !this.stopped.signal.aborted;) {
      const client = new pg.Client({ connectionString: this.options.url, application_name: 'kiln-server-changes' });
      const lost = new Promise<void>((resolve) => {
        // A lost connection emits 'error' (perhaps more than once) and 'end': never unhandled.
        client.on('error', () => resolve());
        client.once('end', () => resolve());
      });
      try {
        await client.connect();
        client.on('notification', (msg) => {
          if (msg.channel === CHANGES_CHANNEL) this.options.onChange(parseChange(msg.payload ?? ''));
        });
        await client.query(`LISTEN ${CHANGES_CHANNEL}`);
        this.client = client;
        attempt = 0;
        this.options.onState(true);
        await Promise.race([
          lost,
          new Promise((r) => this.stopped.signal.addEventListener('abort', r, { once: true })),
        ]);
      } catch (err) {
        this.options.logger.warn({ err: (err as Error).message }, 'cannot listen for database changes');
      }
      this.client = null;
      this.options.onState(false);
      await client.end().catch(() => undefined);
      if (this.stopped.signal.aborted) return;
      await sleep(backoffDelay(attempt++, { initialMs: 250, maxMs: 10_000 }), this.stopped.signal);
    }
  }
}
