import type { Queryable } from '@kiln/shared';

/** How often a busy farm writes, per running build (agent defaults: KILN_LEASE 45 s, renewed every quarter). */
const LEASE_RENEWAL_MS = 45_000 / 4;
/** A build of about a minute with 4 stages, each row written as it starts and as it ends. */
const BUILD_MS = 60_000;
const STAGE_WRITES_PER_BUILD = 8;

export interface FarmChurn {
  /** Stops writing; what was written, by kind. */
  stop(): Promise<Record<'leases' | 'stages' | 'packages', number>>;
}

/**
 * The writes of a farm with `workers` builds running at once, made while the
 * server is read: lease renewals (workers / 11.25 s), stage rows (8 a build of
 * a minute) and recorded packages (one a build), each to real rows of the
 * filled database, each its own transaction as the agent's are. The server
 * hears of each through the change notifications, as it would of real agents.
 */
export async function startFarmChurn(pool: Queryable, workers: number): Promise<FarmChurn> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT build_id::text AS id FROM packages ORDER BY random() LIMIT $1`,
    [workers],
  );
  const builds = rows.map((r) => r.id);
  const done = { leases: 0, stages: 0, packages: 0 };
  const any = () => builds[Math.floor(Math.random() * builds.length)]!;
  const timers: NodeJS.Timeout[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const every = (ms: number, kind: keyof typeof done, sql: string) =>
    timers.push(
      setInterval(() => {
        const write = pool.query(sql, [any()]).then(() => done[kind]++);
        inFlight.add(write);
        void write.finally(() => inFlight.delete(write));
      }, ms),
    );
  every(
    LEASE_RENEWAL_MS / workers,
    'leases',
    `UPDATE builds SET heartbeat_at = now(), lease_expires_at = now() + interval '45 seconds' WHERE id = $1`,
  );
  every(
    BUILD_MS / STAGE_WRITES_PER_BUILD / workers,
    'stages',
    'UPDATE build_stages SET duration_ms = duration_ms + 1 WHERE build_id = $1 AND position = 0',
  );
  every(BUILD_MS / workers, 'packages', 'UPDATE packages SET updated_at = now() WHERE build_id = $1');
  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      return { ...done };
    },
  };
}
