import { randomBytes } from 'node:crypto';

/**
 * Each test file gets its own RabbitMQ vhost, made and removed through the
 * management API (much faster than rabbitmqctl), so runs never collide.
 */
const MANAGEMENT = process.env.KILN_TEST_RABBIT_API ?? 'http://127.0.0.1:15672/api';
const AMQP_BASE = process.env.KILN_TEST_AMQP_BASE ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * A queue as the broker's management API counts it. The counts are the
 * broker's periodic samples (every 5 s on a default node), so a test polls
 * them for the state it expects; `acked` and `delivered` only ever grow,
 * which makes "at least n acks" a safe condition to wait for. The exact,
 * unsampled number of *ready* messages is `readyMessages()` (AMQP).
 */
export interface QueueStats {
  ready: number;
  unacked: number;
  /** Acknowledgements and deliveries since the queue was declared. */
  acked: number;
  delivered: number;
}

export interface ManagementApi {
  request(method: string, path: string, body?: unknown): Promise<Response>;
  /** Null while the broker has not sampled the queue yet; an error if it does not exist. */
  queueStats(vhost: string, queue: string): Promise<QueueStats | null>;
}

export function managementApi(base: string, user = 'guest', password = 'guest'): ManagementApi {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const api: ManagementApi = {
    async request(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`RabbitMQ API ${method} ${path}: ${res.status} ${await res.text()}`);
      return res;
    },
    async queueStats(vhost, queue) {
      const res = await api.request('GET', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`);
      const info = (await res.json()) as {
        messages_ready?: number;
        messages_unacknowledged?: number;
        message_stats?: { ack?: number; deliver?: number };
      };
      // A queue the broker has not sampled yet has no counts at all: unknown, not empty.
      if (info.messages_ready === undefined || info.messages_unacknowledged === undefined) return null;
      return {
        ready: info.messages_ready,
        unacked: info.messages_unacknowledged,
        acked: info.message_stats?.ack ?? 0,
        delivered: info.message_stats?.deliver ?? 0,
      };
    },
  };
  return api;
}

export interface TestVhost {
  name: string;
  url: string;
  /** The broker's counts for a queue of this vhost (see QueueStats). */
  queueStats(queue?: string): Promise<QueueStats | null>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function createTestVhost(prefix = 'kiln-test'): Promise<TestVhost> {
  const api = managementApi(MANAGEMENT);
  const name = `${prefix}-${randomBytes(6).toString('hex')}`;
  const vhost = encodeURIComponent(name);
  await api.request('PUT', `/vhosts/${vhost}`);
  await api.request('PUT', `/permissions/${vhost}/guest`, { configure: '.*', write: '.*', read: '.*' });
  return {
    name,
    url: `${AMQP_BASE}/${vhost}`,
    queueStats: (queue = 'build_queue') => api.queueStats(name, queue),
    async [Symbol.asyncDispose]() {
      await api.request('DELETE', `/vhosts/${vhost}`).catch(() => {});
    },
  };
}
