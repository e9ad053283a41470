import type { ArtifactFormat, BrokerConnection, ConfiguredOwners, Database, Logger } from '@kiln/shared';
import type { BuildEngine } from '../engine/types.js';
import type { BuildAnalyst } from '../intel/build-analyst.js';
import type { AgentMetrics } from './agent-metrics.js';
import type { Checkout } from './checkout.js';
import type { FailureNotifications } from './failure-notifications.js';

/** What `kiln agent` is made of: its identity, queues, services and limits. */
export interface AgentServiceOptions {
  agentId: string;
  /** Owners pinned by the operator (KILN_PACKAGE_OWNERS); the database decides the rest. */
  packageOwners?: ConfiguredOwners;
  /** Provides, needs, diffs and the linkage policy, as each build is recorded. */
  analyst?: BuildAnalyst;
  /** Opens a RabbitMQ connection; the service reconnects through it. */
  connectBroker: () => Promise<BrokerConnection>;
  /** The build queue people drop jobs on; this agent routes from it and builds from `<queue>.<arch>`. */
  queue: string;
  /** The arches this agent builds for (servedArches): default, this host's only. */
  arches?: readonly string[];
  /** This host's arch: where a job goes whose manifest names none. Default: this process's. */
  nativeArch?: string;
  deliveryLimit: number;
  eventsExchange: string;
  concurrency: number;
  pool: Database;
  engine: BuildEngine;
  checkout: Checkout;
  notifications: FailureNotifications;
  logger: Logger;
  workDir: string;
  artifactDir?: string;
  artifactFormat?: ArtifactFormat;
  hostEnv?: Record<string, string | undefined>;
  logLimitBytes: number;
  /** How long a running attempt's claim lasts without a heartbeat (a dead agent's builds are retaken after it). */
  leaseMs: number;
  /** On stop: how long running builds may finish before they are stopped and requeued. */
  shutdownGraceMs: number;
  /** `/metrics` and `/healthz`; undefined: no server. 0: any free port. */
  metricsPort?: number;
  /** Per-consumer ack timeout asked of the broker; see QueueWorker. */
  consumerTimeoutMs?: number;
  metrics?: AgentMetrics;
}
