import type { Logger } from '@kiln/shared';
import type { AttemptRef, BuildStore } from './store/index.js';

export interface LeaseOptions {
  store: Pick<BuildStore, 'heartbeat' | 'cancelRequested'>;
  ref: AttemptRef;
  leaseMs: number;
  /** How often the lease is renewed; well under `leaseMs`, so one missed beat is not fatal. */
  renewEveryMs: number;
  logger: Logger;
  /** Called once when the row says another attempt owns the build now. */
  onLost: () => void;
  /** Called once when the row says someone asked to cancel the build (the fallback for a lost cancel event). */
  onCancel?: () => void;
  /** How often the cancel flag is read (default 2 s). */
  cancelPollMs?: number;
}

/**
 * Keeps an attempt's lease alive while it builds. A database that does not
 * answer is logged and retried on the next beat: the build goes on, and if
 * the lease runs out meanwhile, the final write's guard settles who won.
 */
export function startLease(options: LeaseOptions): { stop(): void } {
  let beating = false;
  let lost = false;
  let cancelled = false;
  const timer = setInterval(() => {
    if (beating || lost) return;
    beating = true;
    options.store
      .heartbeat(options.ref, options.leaseMs)
      .then((owned) => {
        if (!owned && !lost) {
          lost = true;
          options.logger.warn('lost the lease: another attempt owns this build now; abandoning this one');
          options.onLost();
        }
      })
      .catch((err: unknown) => options.logger.warn({ err }, 'could not renew the lease; will try again'))
      .finally(() => {
        beating = false;
      });
  }, options.renewEveryMs);
  timer.unref();
  // The database's cancel flag, for a cancel event lost with the broker: looked at often enough to stop within 5 s.
  let looking = false;
  const cancelTimer = options.onCancel
    ? setInterval(() => {
        if (looking || lost || cancelled) return;
        looking = true;
        options.store
          .cancelRequested(options.ref.buildId)
          .then((asked) => {
            if (asked && !cancelled && !lost) {
              cancelled = true;
              options.onCancel?.();
            }
          })
          .catch((err: unknown) => options.logger.debug({ err }, 'could not look for a cancel request'))
          .finally(() => {
            looking = false;
          });
      }, options.cancelPollMs ?? 2_000)
    : undefined;
  cancelTimer?.unref();
  return {
    stop: () => {
      clearInterval(timer);
      clearInterval(cancelTimer);
    },
  };
}
