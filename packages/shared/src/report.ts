import type { ArtifactFormat } from './artifact-format.js';
import type { BuildAnalysis } from './intel/analysis.js';

/** The build report of DESIGN.md: `kiln run --json` prints it; the database holds it. */
export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'errored' | 'cancelled';
export type StageStatus = 'running' | 'succeeded' | 'failed' | 'errored' | 'skipped' | 'cancelled';
export type FileKind = 'executable' | 'shared-library' | 'static-library' | 'config' | 'symlink' | 'other';

export interface CommandReport {
  command: string;
  exitCode: number | null;
  durationMs: number;
}

export interface StageReport {
  name: string;
  status: StageStatus;
  image?: string;
  exitCode: number | null;
  durationMs: number;
  commands: CommandReport[];
  /** Why the stage did not succeed: `exited 2`, `timed out after 20m`, `killed: out of memory`. */
  error?: string;
  /** prepare only: its compiler image came from the cache, nothing ran. */ cached?: boolean;
}

export interface InstalledFile extends ElfFacts {
  path: string;
  size: number;
  mode: string;
  sha256?: string;
  kind: FileKind;
  linkage?: 'static' | 'dynamic';
  needed?: string[];
  target?: string;
}

/**
 * DESIGN.md "ELF facts per file": how an executable or shared library was
 * linked and hardened. `setuid`/`setgid` (from the mode) are set on any file,
 * and only when true.
 */
export interface ElfFacts {
  /** The machine the ELF file is for, from e_machine (`x86-64`, `aarch64`, `arm`, `i386`, `riscv64`, …); any ELF file. */
  machine?: string;
  /** A shared library's DT_SONAME: what it provides to the dynamic linker. */
  soname?: string;
  /** DT_RUNPATH, or the older DT_RPATH, as written (colon-separated). */
  runpath?: string;
  /** Executables only: position-independent (ET_DYN). */
  pie?: boolean;
  relro?: Relro;
  bindNow?: boolean;
  /** A non-executable stack (PT_GNU_STACK without PF_X). */
  nxStack?: boolean;
  /** No symbol table; absent when the section headers could not be read. */
  stripped?: boolean;
  setuid?: boolean;
  setgid?: boolean;
  /** The GNU build-id, hex. */
  buildId?: string;
}
export type Relro = 'none' | 'partial' | 'full';

export interface InstallReport {
  sizeBytes: number;
  files: InstalledFile[];
  /** The packed payload; `format` names its compression (and its media type, see artifact-format.ts). */
  artifact?: { path: string; sha256: string; sizeBytes: number; format: ArtifactFormat };
}

export interface BuildFailure {
  stage: string;
  command?: string;
  exitCode?: number | null;
  reason: string;
}

/** A document about a build: its CycloneDX SBOM, or its SLSA provenance in a signed DSSE envelope. */
export interface Attestation {
  kind: 'sbom' | 'provenance';
  mediaType: string;
  /** Where it was written, next to the artifact; null when no artifact was written. */
  path: string | null;
  sha256: string;
  /** The signing key's fingerprint (provenance). */
  signedBy?: string;
}

/** A build made twice with a varied environment, its payloads compared file by file. */
export interface ReproducibilityCheck {
  /** `error`: the second build or the comparison could not be done (`error` says why). */
  status: 'reproducible' | 'unreproducible' | 'error';
  /** Paths whose content, mode or link target differ, or that only one build installed. */
  differing: string[];
  /** diffoscope's text for the first differing files, each capped. */
  differences?: Array<{ path: string; diff: string }>;
  /** What the second build changed: build path, TZ, locale, umask, hostname, CPUs, clock. */
  variations: Record<string, string>;
  /** From the second build's start to the verdict. */
  durationMs: number;
  error?: string;
}

/** Something the content policy found in a payload (DESIGN: setuid files, account files, devices, ...). */
export interface PolicyFlag {
  path: string;
  rule: 'setuid' | 'setgid' | 'account-file' | 'scheduled-job' | 'sensitive-copy' | 'device' | 'machine';
  message: string;
}

export interface BuildReport {
  status: BuildStatus;
  package: { name: string; version: string } | null;
  /** The Debian architecture the build was for (`amd64`, `arm64`, …). */
  arch?: string;
  /** True when that arch is not the host's: the build ran under an emulator (qemu-user through binfmt_misc). */
  emulated?: boolean;
  durationMs: number;
  stages: StageReport[];
  install: InstallReport | null;
  error: string | null;
  /** The first thing that failed, for people and emails. */
  failure?: BuildFailure;
  /** The SOURCE_DATE_EPOCH the stages had: the built commit's time, in seconds. */
  sourceDateEpoch?: number;
  /** The SBOM and signed provenance made for the package (absent when it did not succeed). */
  attestations?: Attestation[];
  /** The second, varied build's verdict (manifest `verify: [reproducible]`, KILN_VERIFY_REPRODUCIBLE). */
  reproducibility?: ReproducibilityCheck;
  /** What the content policy flagged in the payload (absent when nothing). */
  flags?: PolicyFlag[];
  /** Where the time went, phase by phase, in the order they started (phases may overlap). */
  timings?: PhaseTiming[];
  /** Provides, unresolved needs, policy findings and what changed since the previous build (when recorded). */
  analysis?: BuildAnalysis;
}

/**
 * The phases of a job, from the queue to the ack. `stage` phases name their
 * stage; `cleanup` is removing containers and the workspace, which may
 * overlap with `record`.
 */
export const PHASES = [
  'queue',
  'claim',
  'checkout',
  'manifest',
  'image',
  'prepare',
  'stage',
  'install',
  'inspection',
  'artifact',
  'attestation',
  'reproducibility',
  'cleanup',
  'record',
  'ack',
] as const;
export type PhaseName = (typeof PHASES)[number];

export interface PhaseTiming {
  phase: PhaseName;
  /** For `stage`: which one. */
  stage?: string;
  /** Milliseconds from the job's first phase (its request, or the build's start for `kiln run`). */
  startMs: number;
  durationMs: number;
}
