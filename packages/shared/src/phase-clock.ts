import type { PhaseName, PhaseTiming } from './report.js';

/**
 * Records how long each phase of a job takes, against one origin (the job's
 * request, or the build's start). Every part of the job that does work gets
 * the same clock, so the timings read as one timeline.
 */
export class PhaseClock {
  private readonly phases: PhaseTiming[] = [];

  constructor(
    readonly origin: number = Date.now(),
    private readonly now: () => number = Date.now,
  ) {}

  /** A phase that started at `startedAt` and ended at `endedAt` (epoch milliseconds). */
  add(phase: PhaseName, startedAt: number, endedAt: number, stage?: string): void {
    this.phases.push({
      phase,
      ...(stage === undefined ? {} : { stage }),
      startMs: Math.max(0, Math.round(startedAt - this.origin)),
      durationMs: Math.max(0, Math.round(endedAt - startedAt)),
    });
  }

  /** Starts a phase now; the returned function ends it (only the first call counts). */
  start(phase: PhaseName, stage?: string): () => void {
    const startedAt = this.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.add(phase, startedAt, this.now(), stage);
    };
  }

  /** Times `work` as `phase`, whether it resolves or throws. */
  async time<T>(phase: PhaseName, work: () => Promise<T>, stage?: string): Promise<T> {
    const end = this.start(phase, stage);
    try {
      return await work();
    } finally {
      end();
    }
  }

  /** The phases so far, in the order they started. */
  timings(): PhaseTiming[] {
    return [...this.phases].sort((a, b) => a.startMs - b.startMs);
  }
}
