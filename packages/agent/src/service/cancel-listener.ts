import type { BrokerConnection, Logger } from '@kiln/shared';

/** Where a running build hears that someone asked to cancel it. */
export interface CancelRequests {
  /** Calls `onCancel` (once) when a cancel of this build arrives, until the returned function is called. */
  watch(buildId: string, onCancel: () => void): () => void;
}

export const noCancelRequests: CancelRequests = { watch: () => () => undefined };

/**
 * Cancel requests from kiln server (`build.<id>.cancel` on the events
 * exchange), through an exclusive queue of this agent's own that is made
 * again on every new connection. Best effort: a request lost while the
 * broker was away is still seen at the next lease renewal, from the
 * database's `cancel_requested_at`.
 */
export class CancelListener implements CancelRequests {
  private readonly watchers = new Map<string, () => void>();

  constructor(
    private readonly exchange: string,
    private readonly logger: Logger,
  ) {}

  async attach(connection: BrokerConnection): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', (err: Error) => this.logger.debug({ err: err.message }, 'cancel channel error'));
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, this.exchange, 'build.*.cancel');
    await channel.consume(
      queue,
      (msg) => {
        const buildId = msg?.fields.routingKey.split('.')[1];
        if (buildId) this.cancel(buildId);
      },
      { noAck: true },
    );
  }

  watch(buildId: string, onCancel: () => void): () => void {
    this.watchers.set(buildId, onCancel);
    return () => {
      if (this.watchers.get(buildId) === onCancel) this.watchers.delete(buildId);
    };
  }

  /** Cancels a build this agent runs; false when it runs none of that id. */
  cancel(buildId: string): boolean {
    const onCancel = this.watchers.get(buildId);
    if (!onCancel) return false;
    this.watchers.delete(buildId);
    this.logger.info({ buildId }, 'cancel requested: stopping the build');
    onCancel();
    return true;
  }
}
