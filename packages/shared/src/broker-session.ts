import type { BrokerConnection } from './broker.js';
import type { Logger } from './logger.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';

export interface BrokerSessionOptions {
  /** Opens a new connection (composed in main.ts from the configuration). */
  connect: () => Promise<BrokerConnection>;
  logger: Logger;
  reconnect?: BackoffOptions;
  /** Runs on every new connection before anyone else gets it (declarations). */
  setup: (connection: BrokerConnection) => Promise<void>;
  /** Called when `setup` fails in a way reconnecting cannot fix (the queue exists with other arguments, access refused). */
  onFatal: (err: Error) => void;
  onStateChange?: (connected: boolean) => void;
}

// AMQP reply codes after which retrying the same declaration is pointless.
const ACCESS_REFUSED = 403;
const PRECONDITION_FAILED = 406;

/**
 * One connection to RabbitMQ that comes back by itself: when the broker
 * restarts or the network drops, it reconnects with exponential backoff,
 * runs `setup` again, and hands the new connection to whoever waits.
 */
export class BrokerSession {
  private current: BrokerConnection | null = null;
  private waiters: Array<() => void> = [];
  private readonly closing = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(private readonly options: BrokerSessionOptions) {}

  get connected(): boolean {
    return this.current !== null;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** The live connection, waiting for one if need be; null once closed or when `signal` aborts. */
  async connection(signal?: AbortSignal): Promise<BrokerConnection | null> {
    while (!this.closing.signal.aborted && !signal?.aborted) {
      if (this.current) return this.current;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    return null;
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.wake();
    const connection = this.current;
    this.current = null;
    await connection?.close().catch(() => undefined);
    await this.loop;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    const reconnect = this.options.reconnect ?? { initialMs: 250, maxMs: 30_000 };
    let failures = 0;
    while (!this.closing.signal.aborted) {
      let connection: BrokerConnection;
      try {
        connection = await this.options.connect();
      } catch (err) {
        const delay = backoffDelay(failures++, reconnect);
        logger.warn({ err: (err as Error).message, retryInMs: delay }, 'cannot reach RabbitMQ; retrying');
        await sleep(delay, this.closing.signal);
        continue;
      }
      const closed = new Promise<Error | undefined>((resolve) => connection.once('close', resolve));
      connection.on('error', (err: Error) => logger.warn({ err: err.message }, 'RabbitMQ connection error'));
      connection.on('blocked', (reason: string) =>
        logger.warn({ reason }, 'RabbitMQ blocked this connection (resource alarm)'),
      );
      try {
        await this.options.setup(connection);
      } catch (err) {
        await connection.close().catch(() => undefined);
        const code = (err as { code?: number }).code;
        if (code === PRECONDITION_FAILED || code === ACCESS_REFUSED) {
          this.options.onFatal(err as Error);
          return;
        }
        const delay = backoffDelay(failures++, reconnect);
        logger.warn(
          { err: (err as Error).message, retryInMs: delay },
          'could not set up the RabbitMQ connection; retrying',
        );
        await sleep(delay, this.closing.signal);
        continue;
      }
      if (this.closing.signal.aborted) {
        await connection.close().catch(() => undefined);
        return;
      }
      if (failures > 0) logger.info('connected to RabbitMQ again');
      failures = 0;
      this.current = connection;
      this.options.onStateChange?.(true);
      this.wake();
      const why = await closed;
      this.current = null;
      this.options.onStateChange?.(false);
      if (this.closing.signal.aborted) return;
      logger.warn({ err: why?.message }, 'lost the RabbitMQ connection; reconnecting (running builds go on)');
      await sleep(backoffDelay(failures++, reconnect), this.closing.signal);
    }
  }
}
