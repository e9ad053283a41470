import os from 'node:os';
import type { Database, Logger } from '@kiln/shared';

export interface AgentPresenceOptions {
  db: Database;
  agentId: string;
  arch: string;
  workers: number;
  /** Workers handling a job now. */
  busy: () => number;
  logger: Logger;
  /** How often the row is renewed when nothing changes (kiln server counts an agent unseen for 3× this as gone). */
  everyMs?: number;
}

/**
 * The agent's row in `agents`: its workers and busy workers, written when
 * a worker takes or finishes a job and renewed every few seconds, so kiln
 * server's /metrics can tell an autoscaler how busy the fleet is without
 * reaching every agent's own /metrics across the network.
 */
export class AgentPresence {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private again = false;

  constructor(private readonly options: AgentPresenceOptions) {}

  start(): void {
    this.changed();
    this.timer = setInterval(() => this.changed(), this.options.everyMs ?? 5_000);
    this.timer.unref();
  }

  /** Writes the current counts soon; calls while a write is under way coalesce into one more. */
  changed(): void {
    if (this.again) return;
    this.again = true;
    this.writing = this.writing.then(async () => {
      this.again = false;
      await this.write().catch((err: unknown) =>
        this.options.logger.debug({ err }, 'could not record this agent in the database; will try again'),
      );
    });
  }

  /** Stops renewing and marks the agent stopped. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
    await this.options.db
      .query('UPDATE agents SET busy = 0, stopped_at = now(), seen_at = now() WHERE id = $1', [this.options.agentId])
      .catch((err: unknown) => this.options.logger.warn({ err }, 'could not mark this agent stopped'));
  }

  private async write(): Promise<void> {
    const { db, agentId, arch, workers } = this.options;
    await db.query(
      `INSERT INTO agents (id, host, arch, workers, busy) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET host = $2, arch = $3, workers = $4, busy = $5, seen_at = now(), stopped_at = NULL,
         started_at = CASE WHEN agents.stopped_at IS NULL THEN agents.started_at ELSE now() END`,
      [agentId, os.hostname(), arch, workers, Math.max(0, this.options.busy())],
    );
  }
}
