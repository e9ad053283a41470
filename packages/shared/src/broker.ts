/**
 * The broker as Kiln uses it, in Kiln's words: a connection that opens
 * channels, channels that declare, publish, consume and settle messages.
 * Typed structurally (the way the database seam is `Queryable`), so amqplib's
 * connection fits it as it is and no amqplib type crosses a package boundary;
 * a fake for a unit test needs only what it uses.
 */

/** Properties Kiln sets on a message it publishes. */
export interface BrokerPublishOptions {
  persistent?: boolean;
  contentType?: string;
  messageId?: string;
  headers?: Record<string, unknown>;
  /** Milliseconds the broker keeps the message before dropping it. */
  expiration?: string | number;
  /** What kind of message this is, for a reader that routes on it. */
  type?: string;
  /** Who published it. */
  appId?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
}

/** A message as Kiln reads it. */
export interface BrokerMessage {
  content: Buffer;
  fields: { routingKey: string; deliveryTag: number; redelivered: boolean; exchange: string };
  properties: {
    contentType?: string;
    messageId?: string;
    headers?: Record<string, unknown> | undefined;
    /** 2: persistent. */
    deliveryMode?: number;
  };
}

export interface BrokerQueueOptions {
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  arguments?: Record<string, unknown>;
}

export interface BrokerQueueState {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

export interface BrokerConsumeOptions {
  noAck?: boolean;
  exclusive?: boolean;
  arguments?: Record<string, unknown>;
}

export interface BrokerChannel {
  close(): Promise<void>;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
  assertQueue(queue: string, options?: BrokerQueueOptions): Promise<BrokerQueueState>;
  checkQueue(queue: string): Promise<BrokerQueueState>;
  assertExchange(
    exchange: string,
    type: 'topic' | 'direct' | 'fanout',
    options?: { durable?: boolean },
  ): Promise<unknown>;
  bindQueue(queue: string, exchange: string, pattern: string): Promise<unknown>;
  publish(exchange: string, routingKey: string, content: Buffer, options?: BrokerPublishOptions): boolean;
  sendToQueue(queue: string, content: Buffer, options?: BrokerPublishOptions): boolean;
  consume(
    queue: string,
    onMessage: (message: BrokerMessage | null) => void,
    options?: BrokerConsumeOptions,
  ): Promise<{ consumerTag: string }>;
  cancel(consumerTag: string): Promise<unknown>;
  get(queue: string, options?: { noAck?: boolean }): Promise<BrokerMessage | false>;
  ack(message: BrokerMessage): void;
  nack(message: BrokerMessage, allUpTo?: boolean, requeue?: boolean): void;
  prefetch(count: number): Promise<unknown>;
}

/** A channel whose publishes the broker confirms: the callback hears when the message is safe. */
export interface BrokerConfirmChannel extends BrokerChannel {
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: BrokerPublishOptions,
    confirmed?: (err: unknown) => void,
  ): boolean;
  sendToQueue(
    queue: string,
    content: Buffer,
    options?: BrokerPublishOptions,
    confirmed?: (err: unknown) => void,
  ): boolean;
  waitForConfirms(): Promise<void>;
}

export interface BrokerConnection {
  createChannel(): Promise<BrokerChannel>;
  createConfirmChannel(): Promise<BrokerConfirmChannel>;
  close(): Promise<void>;
  on(event: 'close', listener: (err?: Error) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** The broker stopped accepting publishes (a resource alarm). */
  on(event: 'blocked', listener: (reason: string) => void): unknown;
  once(event: 'close', listener: (err?: Error) => void): unknown;
}

/** How a component reaches the broker: given by the package's main.ts (or a test). */
export type ConnectBroker = () => Promise<BrokerConnection>;
