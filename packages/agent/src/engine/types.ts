import type { ArtifactFormat, BuildReport, Manifest, PhaseClock, StageReport } from '@kiln/shared';
import type { ProvenanceRequest, TrustDocument } from '../trust/attest.js';
import type { BuildVariation } from '../trust/build-variation.js';

/**
 * The build engine's contract, shared by `kiln run` and the agent service.
 * (Written before the engine, so the service, the CLI and the engine can be
 * built side by side; change it in one commit with its callers.)
 */

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogChunk {
  stage: string;
  stream: LogStream;
  /** Already masked: secrets from the environment never appear here. */
  text: string;
  at: number;
}

export interface ResourceLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** Default per-stage limit; a manifest section's `timeout` overrides it. */
  stageTimeoutMs: number;
  /** A stage that prints nothing for this long is killed. */
  idleTimeoutMs: number;
  /** Bytes of log kept per build (older output is dropped, the tail kept). */
  logLimitBytes: number;
  /**
   * The network of phases that get one (prepare; stages that ask, where allowed):
   * `isolated` is Kiln's firewalled network (build-network.ts). Other phases have none.
   */
  network: 'isolated' | 'bridge' | 'none' | 'host';
  /** Whether a stage after prepare may ask for a network (`network: true`). */
  allowStageNetwork: boolean;
  /** A larger payload fails the build before it is read. */
  payloadLimitBytes: number;
  /** `fail`: any content-policy flag fails the build, whatever the manifest says. */
  contentPolicy: 'warn' | 'fail';
}

/** Live progress, for a terminal, the database and the events exchange. */
export interface BuildEvents {
  stageStarted?(e: { stage: string; position: number; image: string }): void;
  commandStarted?(e: { stage: string; position: number; index: number; command: string }): void;
  /** `exitCode` is -1 when Kiln stopped the command (timeout, no output, process limit, cancel); the report says null. */
  commandFinished?(e: {
    stage: string;
    position: number;
    index: number;
    command: string;
    exitCode: number;
    durationMs: number;
  }): void;
  log?(chunk: LogChunk): void;
  stageFinished?(e: StageReport & { position: number }): void;
  /** The install's payload being read, hashed, classified and packed: a few times a second, and once at the end. */
  payload?(e: PayloadProgress): void;
}

export interface PayloadProgress {
  /** Content bytes read so far. */
  bytesDone: number;
  /**
   * What the install stage wrote, as Docker counts it before anything is read:
   * an upper bound (it includes scratch files that are not payload), exact
   * when the payload limit had to count it. Null when unknown.
   */
  bytesTotal: number | null;
  files: number;
  elapsedMs: number;
  done: boolean;
}

export interface BuildRequest {
  /** Names and labels every container, volume and image of this build. */
  buildId: string;
  /** Host path of the checkout; mounted read-write into every stage at WORKSPACE_PATH. */
  workspace: string;
  /** The repository's identity (repoIdentity): caches belong to it. Default: the workspace's path. */
  repo?: string;
  manifest: Manifest;
  package: { name: string; version: string } | null;
  /**
   * The Debian arch to build for (`amd64`, `arm64`, …); default: the host's. Another arch runs under
   * emulation (a registered qemu binfmt_misc handler) from that arch's variant of the image.
   */
  arch?: string;
  /** Where the payload artifact goes; none is written when absent. */
  artifactDir?: string;
  /** Its format (default `tar.zst`; `tar.gz` when this host has no `zstd` program). */
  artifactFormat?: ArtifactFormat;
  /** The environment `inherit: true` passes through, where the operator allows it. */
  hostEnv?: Record<string, string | undefined>;
  signal?: AbortSignal;
  events?: BuildEvents;
  /**
   * Settles when the workspace is written: containers are made meanwhile,
   * and the first stage that mounts it waits for it. Default: ready now.
   */
  workspaceReady?: Promise<void>;
  /**
   * Resolve with the report before the containers are removed (`cleanedUp`
   * settles when they are), so the caller can record it meanwhile. Default:
   * after.
   */
  deferCleanup?: boolean;
  /** Where the build came from, for its signed provenance (an SBOM is made for every succeeded build). */
  provenance?: ProvenanceRequest;
  /**
   * Set for the second build of a reproducibility check: the environment it
   * varies. Such a build uses no cache volumes and makes no SBOM or provenance.
   */
  variation?: BuildVariation;
  /** SOURCE_DATE_EPOCH for every stage: the commit's time (seconds); unset when unknown. */
  sourceDateEpoch?: number;
  /** Where the build's phases are timed (the job's clock, so the timings read as one timeline); default: its own. */
  clock?: PhaseClock;
}

export interface BuildOutcome {
  report: BuildReport;
  /** The kept (capped, masked) log, in order. */
  log: LogChunk[];
  logTruncatedBytes: number;
  /** A succeeded build's SBOM and provenance, to be recorded with it. */
  documents?: TrustDocument[];
  /** Settles when every container of the build is removed (see `deferCleanup`). Never rejects. */
  cleanedUp: Promise<void>;
}

export interface BuildEngine {
  /**
   * Runs the build and always removes its containers (`cleanedUp`). Resolves with the report
   * for everything about the build itself: `succeeded`, `failed` (a command,
   * a timeout, a limit), `cancelled` (the signal), `errored` (it cannot run as
   * asked: an image that is not there and cannot be pulled, a workspace that is
   * not a directory). Rejects (InfrastructureError) when Docker itself fails:
   * a retry on another attempt may succeed.
   */
  build(request: BuildRequest): Promise<BuildOutcome>;
  /** Makes the build network ready (and firewalled) now, so that a host that cannot do it fails at start. */
  prepareNetwork(): Promise<void>;
  /** Removes containers/volumes/images of builds whose process is gone; returns how many. */
  reap(): Promise<number>;
  /** Removes everything labelled with this build id (a dead attempt's leftovers). */
  removeBuildResources(buildId: string): Promise<number>;
}

export const WORKSPACE_PATH = '/workspace';
export const DESTDIR_PATH = '/kiln/destdir';
