import type { PhaseTiming } from '@kiln/shared';
import { table } from '../format.js';
import { escapeCell } from '../terminal-text.js';

/**
 * Where a build's time went, one phase a line: when it started (from the
 * job's request) and how long it took. Phases may overlap.
 */
export function phaseTable(timings: readonly PhaseTiming[]): string[] {
  const rows = timings.map((t) => [
    t.phase === 'stage' && t.stage !== undefined ? `stage ${escapeCell(t.stage)}` : t.phase,
    `+${formatMs(t.startMs)}`,
    formatMs(t.durationMs),
  ]);
  return table(['phase', 'at', 'took'], rows, [false, true, true]);
}

/** Milliseconds as people read them at this scale: `12 ms`, `1.24 s`, `83.1 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}
