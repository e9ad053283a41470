import { randomBytes } from 'node:crypto';

/**
 * Each test file gets its own RabbitMQ vhost, made and removed through the
 * management API (much faster than rabbitmqctl), so runs never collide.
 */
const MANAGEMENT = process.env.KILN_TEST_RABBIT_API ?? 'http://127.0.0.1:15672/api';
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
const AMQP_BASE = process.env.KILN_TEST_AMQP_BASE ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface TestVhost {
  name: string;
  url: string;
  /** Messages in a queue right now (ready + unacked), per the management API. */
  queueDepth(queue: string): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${MANAGEMENT}${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && res.status !== 404)
    throw new Error(`RabbitMQ API ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

export async function createTestVhost(prefix = 'kiln-test'): Promise<TestVhost> {
  const name = `${prefix}-${randomBytes(6).toString('hex')}`;
  const vhost = encodeURIComponent(name);
  await api('PUT', `/vhosts/${vhost}`);
  await api('PUT', `/permissions/${vhost}/guest`, { configure: '.*', write: '.*', read: '.*' });
  return {
    name,
    url: `${AMQP_BASE}/${vhost}`,
    async queueDepth(queue: string) {
      const res = await api('GET', `/queues/${vhost}/${encodeURIComponent(queue)}`);
      if (res.status === 404) return 0;
      const info = (await res.json()) as { messages?: number };
      return info.messages ?? 0;
    },
    async [Symbol.asyncDispose]() {
      await api('DELETE', `/vhosts/${vhost}`).catch(() => {});
    },
  };
}
