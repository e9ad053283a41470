import amqp from 'amqplib';
import type { BrokerConnection, ConnectBroker } from './broker.js';
import { InfrastructureError } from './errors.js';
import type { Logger } from './logger.js';
import { redactRepo, redactUrlsIn } from './repo-url.js';

export interface ConnectAmqpOptions {
  /** Nagle off: quorum queues otherwise add ~40 ms to every confirm. */
  noDelay?: boolean;
  /** Seconds between heartbeats; a dead peer is noticed after about twice this. */
  heartbeat?: number;
  /** Give up connecting to one URL after this many milliseconds. */
  timeoutMs?: number;
}

export interface AmqpConnectorOptions extends ConnectAmqpOptions {
  /** Hears which node a connection went to (the URL without its password). */
  logger?: Logger;
}

/**
 * The broker URLs in KILN_AMQP_URL: one URL, or several separated by commas
 * (the nodes of a RabbitMQ cluster, in the order to try them).
 */
export function amqpUrls(value: string): string[] {
  return value
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
}

/**
 * Connects to the first reachable broker of `urls` (one URL or a
 * comma-separated list); failure is one line that names every URL tried,
 * without passwords, and the variable to set.
 */
export async function connectAmqp(urls: string, options: ConnectAmqpOptions = {}): Promise<BrokerConnection> {
  const { connection } = await connectFirst(amqpUrls(urls), 0, options);
  return connection;
}

/**
 * How a long-running component reaches a RabbitMQ cluster: each call
 * connects to the first reachable node, starting with the node AFTER the one
 * the previous call reached. A component calls again when its connection
 * drops, so it fails over to the next node at once instead of waiting on
 * the node that just went away (stopped, partitioned, or hung until its
 * connect timeout), and separate connections of one process spread over the
 * cluster. With one URL it is plain reconnecting.
 */
export function amqpConnector(urls: string, options: AmqpConnectorOptions = {}): ConnectBroker {
  const list = amqpUrls(urls);
  let next = 0;
  return async () => {
    const { connection, index } = await connectFirst(list, next, options);
    next = (index + 1) % list.length;
    if (list.length > 1) options.logger?.info({ broker: redactRepo(list[index]!) }, 'connected to RabbitMQ');
    return connection;
  };
}

async function connectFirst(
  urls: readonly string[],
  start: number,
  options: ConnectAmqpOptions,
): Promise<{ connection: BrokerConnection; index: number }> {
  if (urls.length === 0) throw new InfrastructureError('no RabbitMQ URL given (set KILN_AMQP_URL)');
  const failures: string[] = [];
  let last: unknown;
  for (let i = 0; i < urls.length; i++) {
    const index = (start + i) % urls.length;
    const url = urls[index]!;
    try {
      const connection = await amqp.connect(withHeartbeat(url, options.heartbeat ?? 30), {
        noDelay: options.noDelay ?? true,
        timeout: options.timeoutMs ?? 10_000,
      });
      return { connection, index };
    } catch (err) {
      last = err;
      const why = err instanceof Error ? err.message : String(err);
      failures.push(`${redactRepo(url)} (${redactUrlsIn(why)})`);
    }
  }
  throw new InfrastructureError(`cannot reach RabbitMQ at ${failures.join(', ')}: is it running? (set KILN_AMQP_URL)`, {
    cause: last,
  });
}

function withHeartbeat(url: string, seconds: number): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
    return parsed.toString();
  } catch {
    // Not a URL we can edit: amqplib reports it, redacted above.
    return url;
  }
}
