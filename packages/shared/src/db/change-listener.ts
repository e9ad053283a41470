import pg from 'pg';
import { backoffDelay, sleep } from '../backoff.js';
import type { Logger } from '../logger.js';

/** The channel migration 017's triggers notify on, with the changed table's name as payload. */
export const CHANGES_CHANNEL = 'kiln_changes';

export interface ChangeListenerOptions {
  url: string;
  logger: Logger;
  /** A committed change to `table` (sent by PostgreSQL after the commit). */
  onChange: (table: string) => void;
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
          if (msg.channel === CHANGES_CHANNEL) this.options.onChange(msg.payload ?? '');
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
