import type { BuildAnalysis, BuildFailure, BuildStatus, PolicyFlag, StageStatus } from '@kiln/shared';

/** What a failure email says, read from the rows the agent wrote for one build. */
export interface FailureEmailData {
  buildId: string;
  status: BuildStatus;
  repo: string;
  branch: string | null;
  commit: string | null;
  packageName: string | null;
  packageVersion: string | null;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  error: string | null;
  failedStage: string | null;
  failedCommand: string | null;
  exitCode: number | null;
  /** The report's own summary of what failed first, when the agent stored one. */
  failure: BuildFailure | null;
  stages: EmailStage[];
  /** What the content policy flagged in the payload. */
  flags: PolicyFlag[];
  /** What changed since the previous build, unresolved needs, linkage and hardening findings. */
  analysis?: BuildAnalysis | null;
  /** The last lines of the latest attempt's log, cleaned and masked. */
  logTail: string[];
  /** True when the log has more lines before `logTail`. */
  logTruncated: boolean;
  /** The build's page on kiln server, when KILN_PUBLIC_URL says where that is. */
  pageUrl?: string;
}

export interface EmailStage {
  name: string;
  status: StageStatus;
  exitCode: number | null;
  durationMs: number | null;
  /** `exited 2`, `timed out after 20m`, `killed: out of memory`. */
  error: string | null;
  commands: { command: string; exitCode: number | null; durationMs: number | null }[];
}
