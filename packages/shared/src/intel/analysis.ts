/** What Kiln found when it recorded a build (report `analysis`, build page, `kiln status`, the emails). */
export interface BuildAnalysis {
  /** SONAMEs the package's shared libraries provide. */
  provides: string[];
  /** Needed libraries that no package (same arch), no file of this build and no build image provides. */
  unresolved: UnresolvedNeed[];
  /** What the manifest's `policy:` judged; `fail` ones failed the build. */
  findings: PolicyFinding[];
  /** A short account of the diff against the previous build (the whole one: `kiln diff`). */
  changes?: ChangeSummary;
  /**
   * Static executables only: the library packages of the image that compiled
   * them, which they may embed (Debian's `Static-Built-Using`).
   */
  staticBuiltUsing?: ImagePackage[];
}

/** A package installed in a build image (`dpkg-query`). */
export interface ImagePackage {
  name: string;
  version: string;
}

export interface UnresolvedNeed {
  soname: string;
  /** The files that need it. */
  files: string[];
}

export type FindingRule = 'needs' | 'hardening' | 'setuid' | 'runpath' | 'static';

export interface PolicyFinding {
  rule: FindingRule;
  level: 'warn' | 'fail';
  path?: string;
  message: string;
}

export interface ChangeSummary {
  against: string;
  basis: 'hotfix' | 'previous-version' | 'chosen';
  added: number;
  removed: number;
  changed: number;
  sizeChange: number;
  providesAdded: string[];
  providesRemoved: string[];
  abiChange: boolean;
  hardeningLost: number;
  slowerCommands: number;
}
