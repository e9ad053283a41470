/**
 * Live progress of builds, for anyone who wants to follow along. Best effort:
 * the database is the truth, events are a convenience (published without
 * persistence or confirms; lost when no broker is there).
 */
export type BuildEventKind = 'started' | 'stage' | 'log' | 'finished';

export interface BuildEventPublisher {
  publish(buildId: string, kind: BuildEventKind, body: Record<string, unknown>): void;
}

/** Routing key of an event on the topic exchange: `build.<id>.<kind>` (bind `build.*.finished`, `build.<id>.#`). */
export function buildEventRoutingKey(buildId: string, kind: BuildEventKind): string {
  return `build.${buildId}.${kind}`;
}

export const noBuildEvents: BuildEventPublisher = { publish() {} };
