import type { BrokerChannel, BrokerConnection, Logger } from '@kiln/shared';
import { buildEventRoutingKey, type BuildEventKind, type BuildEventPublisher } from './build-events.js';

/**
 * Build events on a topic exchange, through a channel of its own that is
 * replaced on every new connection. Not persistent, not confirmed: a lost
 * event costs a follower a moment, never a build.
 */
export class AmqpBuildEvents implements BuildEventPublisher {
  private channel: BrokerChannel | null = null;

  constructor(
    private readonly exchange: string,
    private readonly logger: Logger,
  ) {}

  /** Call on each new connection (after the exchange is declared). */
  async attach(connection: BrokerConnection): Promise<void> {
    const channel = await connection.createChannel();
    channel.on('error', (err: Error) => this.logger.debug({ err: err.message }, 'events channel error'));
    channel.on('close', () => {
      if (this.channel === channel) this.channel = null;
    });
    this.channel = channel;
  }

  publish(buildId: string, kind: BuildEventKind, body: Record<string, unknown>): void {
    const channel = this.channel;
    if (!channel) return;
    try {
      channel.publish(
        this.exchange,
        buildEventRoutingKey(buildId, kind),
        Buffer.from(JSON.stringify({ buildId, kind, at: new Date().toISOString(), ...body })),
        { contentType: 'application/json', persistent: false },
      );
    } catch (err) {
      this.logger.debug({ err }, 'could not publish a build event');
    }
  }
}
