import type { BuildJob, Manifest, BuildReport } from '@kiln/shared';
import type { LogChunk } from '../../engine/types.js';

/** A job as the agent builds it: always with its build id. */
export type JobWithId = BuildJob & { id: string };

/** One attempt at a build: every write of it is guarded by all three. */
export interface AttemptRef {
  buildId: string;
  attempt: number;
  agent: string;
}

/** What an attempt hands the store to record, in one transaction. */
export interface BuildResult {
  report: BuildReport;
  manifest: Manifest | null;
  commit: string | null;
  package: { name: string; version: string } | null;
  /** Replaces the attempt's live log when the live one was cut short. */
  log?: { chunks: LogChunk[]; firstSeq: number; truncatedBytes: number };
  /** Who hears about a failure: the manifest's maintainer, else the commit's author. */
  maintainer?: string;
  commitAuthor?: { name: string; email: string };
  /** What `report.timings` count from (the job's request). */
  timingsOrigin?: Date;
  /** When the engine started, and each stage as seen live: the start times recorded for stages and commands. */
  startedAt?: Date;
  stageStartedAt?: Array<Date | undefined>;
}
