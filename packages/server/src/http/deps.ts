import type { Logger, Pool } from '@kiln/shared';
import type { AnswerCache } from '../cache/answer-cache.js';
import type { LiveEvents } from '../live/live-feed.js';
import type { ArtifactStore } from '../repo/artifact-store.js';
import type { PackageIndex } from '../repo/package-index.js';
import type { Signer } from '../repo/signing-key.js';
import type { BuildSubmitter } from '../db/build-actions.js';
import type { FleetMetrics } from '../metrics/fleet-metrics.js';

/** What the routes are given: built from configuration in `main.ts`, or by a test. */
export interface ServerDeps {
  db: Pool;
  live: LiveEvents;
  logger: Logger;
  /** The Debian arch every package is taken to be for (no arch column yet). */
  arch: string;
  /** `read`: API and repository reads need a token too. */
  auth: 'write' | 'read';
  corsOrigins: string[];
  index: PackageIndex;
  artifacts: ArtifactStore;
  signer: Signer | null;
  submitter: BuildSubmitter;
  /** Public read answers kept until the package database changes (absent: every read goes to the database). */
  answers?: AnswerCache;
  /** `/metrics` for autoscalers; absent: not served. */
  metrics?: FleetMetrics;
  /** Check every response against its schema at run time (tests); off in production for speed. */
  checkResponses?: boolean;
  /** How often a log follower reads the database when no event came. */
  followPollMs?: number;
}
