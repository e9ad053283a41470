import type { Logger } from '@kiln/shared';
import type { BuildEvents } from '../engine/types.js';
import type { BuildEventPublisher } from './build-events.js';
import type { LiveLog } from './live-log.js';
import type { AttemptRef, BuildStore } from './store/index.js';

export interface BuildProgressTargets {
  ref: AttemptRef;
  store: Pick<BuildStore, 'stageStarted' | 'stageFinished' | 'commandStarted' | 'commandFinished'>;
  events: BuildEventPublisher;
  live: LiveLog;
  logger: Logger;
  /** Filled with each stage's start as it is seen: the result's start times. */
  stageStartedAt: Array<Date | undefined>;
}

/**
 * Where the engine's live progress goes while an attempt runs: stage and
 * command rows (written when they start, completed when they end), the
 * events exchange, and the live log. A row that cannot be written is not
 * fatal: the result carries it.
 */
export function buildProgress(targets: BuildProgressTargets): BuildEvents {
  const { ref, store, events, live, logger, stageStartedAt } = targets;
  const progress = (work: Promise<void>, what: string): void => {
    work.catch((err: unknown) => logger.warn({ err }, `could not record ${what}; the result will carry it`));
  };
  return {
    stageStarted: (e) => {
      stageStartedAt[e.position] = new Date();
      events.publish(ref.buildId, 'stage', { attempt: ref.attempt, event: 'started', ...e });
      progress(store.stageStarted(ref, { position: e.position, name: e.stage, image: e.image }), 'a stage start');
    },
    stageFinished: (e) => {
      events.publish(ref.buildId, 'stage', {
        attempt: ref.attempt,
        event: 'finished',
        stage: e.name,
        position: e.position,
        status: e.status,
        exitCode: e.exitCode,
        durationMs: e.durationMs,
        error: e.error ?? null,
      });
      progress(store.stageFinished(ref, e), 'a stage result');
    },
    commandStarted: (e) => progress(store.commandStarted(ref, { stagePosition: e.position, ...e }), 'a command start'),
    commandFinished: (e) =>
      progress(store.commandFinished(ref, { stagePosition: e.position, ...e }), 'a command result'),
    log: (chunk) => live.append(chunk),
  };
}
