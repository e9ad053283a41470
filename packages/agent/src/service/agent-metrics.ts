import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * What an operator of a fleet watches: jobs by outcome, build durations and
 * how long jobs waited in the queue. One registry per agent (no global one).
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly jobs = new Counter({
    name: 'kiln_agent_jobs_total',
    help: 'Jobs handled, by outcome (succeeded, failed, errored, invalid, duplicate, requeued, discarded, admitted)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly buildDuration = new Histogram({
    name: 'kiln_agent_build_duration_seconds',
    help: 'Time from claim to recorded result, by status',
    labelNames: ['status'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'kiln_agent_queue_wait_seconds',
    help: 'Time from the job being requested to an agent starting it',
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });
  readonly workers = new Gauge({
    name: 'kiln_agent_workers',
    help: 'Workers of this agent',
    registers: [this.registry],
  });
  readonly busy = new Gauge({
    name: 'kiln_agent_workers_busy',
    help: 'Workers handling a job now',
    registers: [this.registry],
  });
  readonly brokerUp = new Gauge({
    name: 'kiln_agent_broker_connected',
    help: '1 while connected to RabbitMQ',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'kiln_agent_' });
  }
}
