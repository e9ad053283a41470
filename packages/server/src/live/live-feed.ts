import {
  BrokerSession,
  type BrokerChannel,
  type BrokerConnection,
  type ConnectBroker,
  type Logger,
} from '@kiln/shared';

/** One row of a build's log as the agent publishes it (`build.<id>.log`) and stores it (`build_logs`). */
export interface LiveLogRow {
  seq: number;
  stage: string | null;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

export type LiveEvent =
  | { kind: 'log'; attempt: number; rows: LiveLogRow[] }
  | { kind: 'stage'; body: Record<string, unknown> }
  | { kind: 'finished'; attempt: number; status: string }
  | { kind: 'reconnected' };

export interface LiveEvents {
  /** Calls `listener` with each event of this build until the returned function is called. */
  subscribe(buildId: string, listener: (event: LiveEvent) => void): () => void;
  /** Asks the agent running this build to stop it (best effort: the database flag is the fallback). */
  publishCancel(buildId: string): boolean;
  readonly connected: boolean;
}

export const noLiveEvents: LiveEvents = {
  subscribe: () => () => undefined,
  publishCancel: () => false,
  connected: false,
};

/**
 * The server's window on the events exchange: one reconnecting connection
 * and one exclusive queue bound to `build.#`, fanned out in-process to the
 * followers of each build. Events are a fast path only; followers read the
 * database for what a broker restart made them miss.
 */
export class AmqpLiveFeed implements LiveEvents {
  private readonly listeners = new Map<string, Set<(event: LiveEvent) => void>>();
  private readonly session: BrokerSession;
  private publisher: BrokerChannel | null = null;

  constructor(
    private readonly options: {
      connect: ConnectBroker;
      exchange: string;
      logger: Logger;
      /** Each build event but log chunks, before the build's followers hear of it (the answer cache empties). */
      onBuildEvent?: (buildId: string, kind: string) => void;
    },
  ) {
    this.session = new BrokerSession({
      connect: options.connect,
      logger: options.logger,
      setup: (connection) => this.setup(connection),
      onFatal: (err) => options.logger.error({ err: err.message }, 'RabbitMQ refused the events exchange'),
      onStateChange: (up) => {
        if (!up) this.publisher = null;
        else for (const set of this.listeners.values()) for (const l of set) l({ kind: 'reconnected' });
      },
    });
  }

  get connected(): boolean {
    return this.session.connected;
  }

  start(): void {
    this.session.start();
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  subscribe(buildId: string, listener: (event: LiveEvent) => void): () => void {
    let set = this.listeners.get(buildId);
    if (!set) this.listeners.set(buildId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(buildId);
    };
  }

  publishCancel(buildId: string): boolean {
    const channel = this.publisher;
    if (!channel) return false;
    try {
      return channel.publish(
        this.options.exchange,
        `build.${buildId}.cancel`,
        Buffer.from(JSON.stringify({ buildId, kind: 'cancel', at: new Date().toISOString() })),
        { contentType: 'application/json', persistent: false },
      );
    } catch (err) {
      this.options.logger.warn({ err }, 'could not publish a cancel request');
      return false;
    }
  }

  private async setup(connection: BrokerConnection): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', (err: Error) => this.options.logger.warn({ err: err.message }, 'events channel error'));
    await channel.assertExchange(this.options.exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, this.options.exchange, 'build.#');
    await channel.consume(queue, (msg) => msg && this.dispatch(msg.fields.routingKey, msg.content), { noAck: true });
    this.publisher = channel;
  }

  private dispatch(routingKey: string, content: Buffer): void {
    const [, buildId, kind] = routingKey.split('.');
    if (!buildId || !kind) return;
    if (kind !== 'log') this.options.onBuildEvent?.(buildId, kind);
    const set = this.listeners.get(buildId);
    if (!set || set.size === 0) return;
    const event = parseEvent(kind, content);
    if (!event) return;
    for (const listener of set) listener(event);
  }
}

function parseEvent(kind: string, content: Buffer): LiveEvent | null {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  const attempt = typeof body.attempt === 'number' ? body.attempt : 0;
  switch (kind) {
    case 'log':
      return Array.isArray(body.rows) ? { kind: 'log', attempt, rows: body.rows as LiveLogRow[] } : null;
    case 'stage':
      return { kind: 'stage', body };
    case 'finished':
      return { kind: 'finished', attempt, status: typeof body.status === 'string' ? body.status : 'unknown' };
    default:
      return null;
  }
}
