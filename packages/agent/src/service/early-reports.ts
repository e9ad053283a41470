import type { BuildReport } from '@kiln/shared';

/*
 * Reports of attempts that ended before the engine ran (or without it): an
 * error in checkout, manifest, ownership or set-up, or a cancel.
 */

export function errored(pkg: BuildReport['package'], startedAt: number, stage: string, reason: string): BuildReport {
  return {
    status: 'errored',
    package: pkg,
    durationMs: Date.now() - startedAt,
    stages: [],
    install: null,
    error: reason,
    failure: { stage, reason },
  };
}

export function cancelledReport(pkg: BuildReport['package'], startedAt: number): BuildReport {
  return {
    status: 'cancelled',
    package: pkg,
    durationMs: Date.now() - startedAt,
    stages: [],
    install: null,
    error: 'cancelled on request',
  };
}
