import type { Database, Logger } from '@kiln/shared';
import type { BuildEngine } from '../engine/types.js';
import type { BuildStore } from './store/index.js';
import { sweepWorkspaces } from './workspace-sweeper.js';

/**
 * At start: the containers, volumes and checkouts of builds whose agent is
 * gone (any agent may remove them; a failure is logged, never fatal).
 */
export async function cleanUpAfterDeadAgents(options: {
  engine: Pick<BuildEngine, 'reap'>;
  pool: Database;
  workDir: string;
  logger: Logger;
}): Promise<void> {
  const { logger } = options;
  const reaped = await options.engine.reap().catch((err: unknown) => {
    logger.warn({ err }, 'could not reap containers of dead builds');
    return 0;
  });
  if (reaped > 0) logger.info({ reaped }, 'removed containers and volumes of builds whose agent is gone');
  const swept = await sweepWorkspaces(options.pool, options.workDir, logger).catch((err: unknown) => {
    logger.warn({ err }, 'could not sweep stale workspaces');
    return 0;
  });
  if (swept > 0) logger.info({ swept }, 'removed checkouts of builds whose agent is gone');
}

/**
 * Every agent looks, at start and then every minute, for builds whose last
 * possible delivery died with its agent (see BuildStore.abandonExhausted):
 * any agent may record them, and doing it twice changes nothing.
 */
export function startAbandonSweep(
  store: BuildStore,
  options: { deliveryLimit: number; leaseMs: number; logger: Logger },
): NodeJS.Timeout {
  const graceMs = Math.max(60_000, options.leaseMs * 2);
  const sweep = (): void => {
    store.abandonExhausted(options.deliveryLimit, graceMs).then(
      (ids) => {
        if (ids.length > 0)
          options.logger.warn({ builds: ids }, 'recorded builds whose every delivery died with its agent as errored');
      },
      (err: unknown) => options.logger.warn({ err }, 'could not look for abandoned builds'),
    );
  };
  sweep();
  const timer = setInterval(sweep, 60_000);
  timer.unref();
  return timer;
}
