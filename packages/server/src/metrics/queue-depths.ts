import type { BrokerConnection, ConnectBroker, Logger } from '@kiln/shared';

export interface QueueDepth {
  queue: string;
  /** Messages ready (waiting for a worker), as a passive declare counts them. */
  messages: number;
  consumers: number;
}

/**
 * Reads queue depths by passive declare over one lazily opened connection
 * (no management API needed, so it works against any node of a cluster and
 * fails over with the connector). A queue that does not exist is left out.
 */
export class QueueDepths {
  private connection: BrokerConnection | null = null;
  private opening: Promise<BrokerConnection> | null = null;

  constructor(private readonly options: { connect: ConnectBroker; logger: Logger }) {}

  async read(queues: readonly string[]): Promise<QueueDepth[]> {
    const connection = await this.open();
    const depths: QueueDepth[] = [];
    for (const queue of queues) {
      // A missing queue closes the channel (404): one channel per question.
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        const state = await channel.checkQueue(queue);
        depths.push({ queue, messages: state.messageCount, consumers: state.consumerCount });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      } finally {
        await channel.close().catch(() => undefined);
      }
    }
    return depths;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    await connection?.close().catch(() => undefined);
  }

  private async open(): Promise<BrokerConnection> {
    if (this.connection) return this.connection;
    this.opening ??= this.options
      .connect()
      .then((connection) => {
        connection.on('error', (err: Error) => this.options.logger.debug({ err: err.message }, 'metrics connection'));
        connection.once('close', () => {
          if (this.connection === connection) this.connection = null;
        });
        this.connection = connection;
        return connection;
      })
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }
}
