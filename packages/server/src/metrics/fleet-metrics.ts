import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger, Queryable } from '@kiln/shared';
import type { QueueDepths } from './queue-depths.js';

export interface FleetMetricsOptions {
  db: Queryable;
  depths: QueueDepths;
  /** The work queue (KILN_QUEUE); per-arch queues are `<queue>.<arch>`. */
  queue: string;
  logger: Logger;
  /** An agent not seen for this long is gone (it renews its row every 5 s). */
  agentStaleMs?: number;
  /** The answer cache's counts, when it is on. */
  answers?: () => AnswerCacheCounts;
}

/** What the answer cache counted since the server started, and what it holds. */
export interface AnswerCacheCounts {
  hits: number;
  misses: number;
  evicted: number;
  cleared: number;
  entries: number;
}

interface AgentRow {
  id: string;
  host: string;
  arch: string;
  workers: number;
  busy: number;
}

/**
 * What an autoscaler needs, in Prometheus text format: how many jobs wait
 * (per queue: the work queue, each `<queue>.<arch>` queue of an arch some
 * agent or waiting build names), how long the oldest has waited, and each
 * live agent's workers and busy workers.
 *
 * The oldest waiting job's age comes from the database (`queued` builds'
 * queued_at), not the broker: a queue can only be peeked by taking a message,
 * which on a quorum queue counts as a delivery against the job's limit. The
 * row is written before the job is published (the outbox), so a job that waits
 * for RabbitMQ itself counts as waiting too.
 */
export class FleetMetrics {
  private readonly registry = new Registry();
  private readonly depth = this.gauge('kiln_queue_messages', 'Jobs waiting in a queue (ready messages)', [
    'queue',
    'arch',
  ]);
  private readonly consumers = this.gauge('kiln_queue_consumers', 'Workers consuming from a queue', ['queue', 'arch']);
  private readonly brokerUp = this.gauge('kiln_broker_up', '1 when the queue depths could be read from RabbitMQ', []);
  private readonly queued = this.gauge('kiln_builds_queued', 'Builds recorded as queued (waiting for a worker)', []);
  private readonly oldest = this.gauge(
    'kiln_queue_oldest_job_age_seconds',
    'Age of the oldest build still waiting for a worker (0 when none waits)',
    [],
  );
  private readonly agents = this.gauge('kiln_agents', 'Agents seen recently', []);
  private readonly workers = this.gauge('kiln_agent_workers', 'Workers of an agent', ['agent', 'host', 'arch']);
  private readonly busy = this.gauge('kiln_agent_workers_busy', 'Workers of an agent handling a job now', [
    'agent',
    'host',
    'arch',
  ]);

  constructor(private readonly options: FleetMetricsOptions) {
    // The process's own: resident memory, CPU, V8 heap spaces, event-loop lag, open handles (prom-client's set).
    collectDefaultMetrics({ register: this.registry });
    const counts = options.answers;
    if (!counts) return;
    const counter = (name: string, help: string, read: (c: AnswerCacheCounts) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read(counts()));
        },
      });
    counter('kiln_http_cache_hits_total', 'Reads answered from the answer cache', (c) => c.hits);
    counter('kiln_http_cache_misses_total', 'Cacheable reads that went to the database', (c) => c.misses);
    counter(
      'kiln_http_cache_evictions_total',
      'Kept answers let go because a table they were read from changed',
      (c) => c.evicted,
    );
    counter('kiln_http_cache_clears_total', 'Times every kept answer was let go', (c) => c.cleared);
    new Gauge({
      name: 'kiln_http_cache_entries',
      help: 'Answers kept now',
      registers: [this.registry],
      collect() {
        this.set(counts().entries);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text a scrape returns, read fresh from the database and the broker. */
  async render(): Promise<string> {
    const { db, queue } = this.options;
    const staleSeconds = (this.options.agentStaleMs ?? 15_000) / 1000;
    const [agents, waiting] = await Promise.all([
      db.query<AgentRow>(
        `SELECT id, host, arch, workers, busy FROM agents
          WHERE stopped_at IS NULL AND seen_at > now() - make_interval(secs => $1) ORDER BY id`,
        [staleSeconds],
      ),
      db.query<{ queued: string; oldest: number | null; arches: string[] }>(
        `SELECT count(*) AS queued, extract(epoch FROM now() - min(queued_at))::float8 AS oldest,
                array_remove(array_agg(DISTINCT arch), NULL) AS arches
           FROM builds WHERE status = 'queued'`,
      ),
    ]);
    for (const gauge of [this.depth, this.consumers, this.workers, this.busy]) gauge.reset();
    this.agents.set(agents.rows.length);
    for (const a of agents.rows) {
      this.workers.set({ agent: a.id, host: a.host, arch: a.arch }, a.workers);
      this.busy.set({ agent: a.id, host: a.host, arch: a.arch }, a.busy);
    }
    this.queued.set(Number(waiting.rows[0]?.queued ?? 0));
    this.oldest.set(Math.max(0, waiting.rows[0]?.oldest ?? 0));

    // Each arch some agent serves (its row lists them, comma-separated) and each arch a queued build
    // waits for: a job for an arch no agent serves shows up too, which is what an autoscaler needs.
    const archs = [...new Set([...agents.rows.flatMap((a) => a.arch.split(',')), ...(waiting.rows[0]?.arches ?? [])])]
      .filter(Boolean)
      .sort();
    try {
      const depths = await this.options.depths.read([queue, ...archs.map((arch) => `${queue}.${arch}`)]);
      for (const d of depths) {
        const arch = d.queue === queue ? '' : d.queue.slice(queue.length + 1);
        this.depth.set({ queue: d.queue, arch }, d.messages);
        this.consumers.set({ queue: d.queue, arch }, d.consumers);
      }
      this.brokerUp.set(1);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'metrics: could not read queue depths from RabbitMQ');
      this.brokerUp.set(0);
    }
    return this.registry.metrics();
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
