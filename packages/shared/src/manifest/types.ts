import type { ManifestPolicy } from './policy.js';
export const MANIFEST_FILES = ['.kiln.yml', '.buildr.yml'] as const;
export type ManifestFile = (typeof MANIFEST_FILES)[number];

export interface ManifestSection {
  script: string[];
  /** Per-section limit; the operator's KILN_STAGE_TIMEOUT applies when absent. */
  timeoutMs?: number;
  /**
   * Whether the section runs with a network. Prepare has one unless it says
   * `false`; other stages have none unless they say `true` and the operator
   * allows it (KILN_ALLOW_STAGE_NETWORK).
   */
  network?: boolean;
}

export interface ManifestStage extends ManifestSection {
  name: string;
}

export interface EnvVar {
  name: string;
  value: string;
}

/** A validated manifest, in one shape whichever file it came from. */
export interface Manifest {
  file: string;
  image: string;
  package: { name?: string; version?: string; maintainer?: string };
  environment: { inherit: boolean; vars: EnvVar[] };
  /** Runs first; its result is the build's cached compiler image. */
  prepare?: ManifestSection;
  stages: ManifestStage[];
  /** Runs last with $DESTDIR set; what it installs is the package payload. */
  install?: ManifestSection;
  cache: string[];
  /**
   * `content: fail` fails the build on a content-policy flag (the operator's KILN_CONTENT_POLICY=fail always does);
   * the other keys judge linkage and hardening (see policy.ts).
   */
  policy?: ManifestPolicy;
  /** `reproducible`: build a second time with a varied environment and compare the payloads. */
  verify?: Array<'reproducible'>;
  /** The Debian arches to build for, one build each; absent: the building agent's native arch. */
  arch?: string[];
}

export const MANIFEST_LIMITS = {
  bytes: 64 * 1024,
  stages: 32,
  scriptLines: 200,
  lineLength: 16 * 1024,
  aliases: 50,
  cachePaths: 16,
} as const;
