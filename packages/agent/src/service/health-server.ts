import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@kiln/shared';
import type { AgentMetrics } from './agent-metrics.js';

export interface AgentHealth {
  status: 'ok' | 'degraded' | 'stopping';
  broker: 'connected' | 'disconnected';
  database: 'ok' | 'unreachable';
  workers: { total: number; busy: number };
  agent: string;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `/metrics` (Prometheus text format) and `/healthz` (200 when broker and
 * database answer, 503 otherwise, JSON either way).
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  metrics: AgentMetrics;
  health: () => Promise<AgentHealth>;
  logger: Logger;
}): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    void respond(req, res).catch((err: unknown) => {
      options.logger.warn({ err }, 'health endpoint failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function respond(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (url === '/metrics') {
      const body = await options.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(body);
    } else if (url === '/healthz' || url === '/health') {
      const health = await options.health();
      res
        .writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(health)}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.logger.error({ err }, 'health server error'));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
