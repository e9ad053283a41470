import type { FastifyInstance } from 'fastify';
import type { FleetMetrics } from '../metrics/fleet-metrics.js';

/** `GET /metrics`: queue depths, the oldest waiting job's age and the agents' busy workers, for an autoscaler. */
export function metricsRoute(app: FastifyInstance, metrics: FleetMetrics): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await metrics.render();
    return reply.header('content-type', metrics.contentType).send(body);
  });
}
