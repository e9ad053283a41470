import {
  archQueueName,
  deadLetterQueueName,
  declareArchQueue,
  type BrokerConnection,
  type BrokerSession,
  type Logger,
} from '@kiln/shared';
import type { AgentMetrics } from './agent-metrics.js';
import { BuildSlots } from './build-slots.js';
import type { Checkout } from './checkout.js';
import type { JobDelivery } from './job-delivery.js';
import type { JobHandler } from './job-handler.js';
import { JobRouter } from './job-router.js';
import { QueueWorker } from './queue-worker.js';
import type { BuildStore } from './store/index.js';

export interface ConsumersOptions {
  queue: string;
  deliveryLimit: number;
  agentId: string;
  concurrency: number;
  /** The arches this agent builds for; `<queue>.<arch>` each. */
  arches: readonly string[];
  nativeArch: string;
  session: BrokerSession;
  checkout: Pick<Checkout, 'resolve'>;
  store: Pick<BuildStore, 'ensureQueued'>;
  metrics: AgentMetrics;
  logger: Logger;
  lifecycle: { readonly stopping: boolean };
  /** Aborts when the agent stops taking jobs: a worker waiting for a build slot gives its message back. */
  draining: AbortSignal;
  consumerTimeoutMs: number;
  /** A build worker took (true) or finished (false) a job; routers do not count. */
  onBusy?: (busy: boolean) => void;
  /** The handler of one arch's queue. */
  handler: (arch: string) => Pick<JobHandler, 'handle'>;
}

/**
 * The agent's consumers: N routers on the build queue (routing holds no
 * build slot, so a job is never routed late because builds are running) and
 * N workers on each served arch's queue, which share N build slots.
 */
export function startConsumers(options: ConsumersOptions): QueueWorker[] {
  const { queue, concurrency, logger, metrics } = options;
  const workers: QueueWorker[] = [];
  const declared = new WeakMap<BrokerConnection, Set<string>>();
  const router = new JobRouter({
    queue,
    nativeArch: options.nativeArch,
    checkout: options.checkout,
    store: options.store,
    declareArchQueue: (arch) => declareOnce(options, declared, arch),
    metrics,
    logger: logger.child({ component: 'router' }),
    lifecycle: options.lifecycle,
  });
  const add = (index: number, role: string, target: string, handle: (d: JobDelivery) => Promise<void>): void => {
    const worker = new QueueWorker({
      index,
      queue: target,
      deadLetterQueue: deadLetterQueueName(queue),
      agentId: options.agentId,
      session: options.session,
      handle,
      logger: logger.child({ worker: `${role}-${index}` }),
      consumerTimeoutMs: options.consumerTimeoutMs,
      onBusy: (busy) => {
        if (role === 'router') return;
        metrics.busy[busy ? 'inc' : 'dec']();
        options.onBusy?.(busy);
      },
    });
    workers.push(worker);
    worker.start();
  };
  for (let index = 0; index < concurrency; index++) add(index, 'router', queue, (d) => router.handle(d));
  const slots = new BuildSlots(concurrency);
  for (const arch of options.arches) {
    const handler = options.handler(arch);
    for (let index = 0; index < concurrency; index++) {
      add(index, arch, archQueueName(queue, arch), async (delivery) => {
        const release = await slots.acquire(AbortSignal.any([options.draining, delivery.channelClosed]));
        if (!release) {
          delivery.requeue();
          return;
        }
        try {
          await handler.handle(delivery);
        } finally {
          release();
        }
      });
    }
  }
  return workers;
}

/** Declares an arch's queue once per connection, before the router's first publish to it (else it is lost). */
async function declareOnce(
  options: Pick<ConsumersOptions, 'session' | 'queue' | 'deliveryLimit'>,
  declared: WeakMap<BrokerConnection, Set<string>>,
  arch: string,
): Promise<void> {
  const connection = await options.session.connection();
  if (!connection) throw new Error('the agent is stopping: no connection to RabbitMQ');
  const done = declared.get(connection) ?? new Set<string>();
  declared.set(connection, done);
  if (done.has(arch)) return;
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await declareArchQueue(channel, { queue: options.queue, deliveryLimit: options.deliveryLimit }, arch);
    done.add(arch);
  } finally {
    await channel.close().catch(() => undefined);
  }
}
