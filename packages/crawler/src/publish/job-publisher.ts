import type { BuildJob } from '@kiln/shared';

export interface PublishResult {
  /** Build ids the broker confirmed (persisted to the queue). */
  confirmed: string[];
  /** Build ids the broker refused or never confirmed, with why. */
  failed: Array<{ id: string; error: string }>;
}

/** Puts BuildJobs on the build queue; a job counts as sent only once the broker confirmed it. */
export interface JobPublisher {
  /** Throws when the broker cannot be reached at all. */
  publish(jobs: ReadonlyArray<BuildJob & { id: string }>): Promise<PublishResult>;
  close(): Promise<void>;
}
