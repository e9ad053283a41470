import type { FileKind, InstalledFile, Relro } from '../report.js';

/** One side of a comparison: a build's installed files and its commands' times. */
export interface BuildSide {
  id: string;
  version: string | null;
  files: InstalledFile[];
  commands: Array<{ stage: string; command: string; durationMs: number | null }>;
}

export type Hardening = 'relro' | 'pie' | 'bindNow' | 'nxStack' | 'runpath' | 'static';

export interface HardeningLoss {
  path: string;
  lost: Hardening;
  before: string;
  after: string;
}

/** What a build changed against an earlier one (DESIGN: `GET /builds/{id}/diff`, `kiln diff`). */
export interface BuildDiff {
  build: string;
  against: string;
  /** `hotfix`: the same version built before; `previous-version`; `chosen`: asked for. */
  basis: 'hotfix' | 'previous-version' | 'chosen';
  versions: { before: string | null; after: string | null };
  files: {
    added: Array<{ path: string; size: number; sha256?: string }>;
    removed: Array<{ path: string; size: number; sha256?: string }>;
    changed: Array<{
      path: string;
      sizeBefore: number;
      sizeAfter: number;
      sha256Before?: string;
      sha256After?: string;
    }>;
    unchanged: number;
  };
  sizeBytes: { before: number; after: number; change: number };
  kinds: Array<{ path: string; before: FileKind; after: FileKind }>;
  linkage: Array<{
    path: string;
    before: string | null;
    after: string | null;
    neededAdded: string[];
    neededRemoved: string[];
  }>;
  provides: { added: string[]; removed: string[] };
  /** A provided SONAME was added or removed. */
  abiChange: boolean;
  hardeningLost: HardeningLoss[];
  /** Commands (matched by stage and text) whose time changed beyond noise. */
  commands: Array<{ stage: string; command: string; beforeMs: number; afterMs: number }>;
}

/** A change of time counts when it is beyond both of these (a loaded 2-core machine varies that much). */
export const TIME_NOISE = { ms: 2000, ratio: 0.5 };
const RELRO_RANK: Record<Relro, number> = { none: 0, partial: 1, full: 2 };

export function providedSonames(files: readonly InstalledFile[]): string[] {
  const names = new Set<string>();
  for (const f of files) if (f.kind === 'shared-library' && f.soname) names.add(f.soname);
  return [...names].sort();
}

export function compareBuilds(before: BuildSide, after: BuildSide, basis: BuildDiff['basis']): BuildDiff {
  const old = new Map(before.files.map((f) => [f.path, f]));
  const now = new Map(after.files.map((f) => [f.path, f]));
  const diff: BuildDiff = {
    build: after.id,
    against: before.id,
    basis,
    versions: { before: before.version, after: after.version },
    files: { added: [], removed: [], changed: [], unchanged: 0 },
    sizeBytes: { before: total(before.files), after: total(after.files), change: 0 },
    kinds: [],
    linkage: [],
    provides: { added: [], removed: [] },
    abiChange: false,
    hardeningLost: [],
    commands: [],
  };
  diff.sizeBytes.change = diff.sizeBytes.after - diff.sizeBytes.before;
  for (const f of after.files) {
    const was = old.get(f.path);
    if (!was) {
      diff.files.added.push(brief(f));
      continue;
    }
    if (was.sha256 !== f.sha256 || was.size !== f.size || was.target !== f.target) {
      diff.files.changed.push({
        path: f.path,
        sizeBefore: was.size,
        sizeAfter: f.size,
        ...(was.sha256 ? { sha256Before: was.sha256 } : {}),
        ...(f.sha256 ? { sha256After: f.sha256 } : {}),
      });
    } else diff.files.unchanged++;
    if (was.kind !== f.kind) diff.kinds.push({ path: f.path, before: was.kind, after: f.kind });
    const neededAdded = without(f.needed, was.needed);
    const neededRemoved = without(was.needed, f.needed);
    if (was.linkage !== f.linkage || neededAdded.length > 0 || neededRemoved.length > 0) {
      diff.linkage.push({
        path: f.path,
        before: was.linkage ?? null,
        after: f.linkage ?? null,
        neededAdded,
        neededRemoved,
      });
    }
    diff.hardeningLost.push(...hardeningLost(was, f));
  }
  for (const f of before.files) if (!now.has(f.path)) diff.files.removed.push(brief(f));
  const provided = [providedSonames(before.files), providedSonames(after.files)] as const;
  diff.provides = { added: without(provided[1], provided[0]), removed: without(provided[0], provided[1]) };
  diff.abiChange = diff.provides.added.length > 0 || diff.provides.removed.length > 0;
  diff.commands = changedCommands(before.commands, after.commands);
  return diff;
}

/** What a file had and lost between two builds. */
export function hardeningLost(was: InstalledFile, now: InstalledFile): HardeningLoss[] {
  const lost: HardeningLoss[] = [];
  const add = (what: Hardening, before: unknown, after: unknown) =>
    lost.push({ path: now.path, lost: what, before: String(before), after: String(after) });
  if (was.relro && now.relro && RELRO_RANK[now.relro] < RELRO_RANK[was.relro]) add('relro', was.relro, now.relro);
  if (was.pie === true && now.pie === false) add('pie', true, false);
  if (was.bindNow === true && now.bindNow === false) add('bindNow', true, false);
  if (was.nxStack === true && now.nxStack === false) add('nxStack', true, false);
  if (!was.runpath && now.runpath) add('runpath', 'none', now.runpath);
  if (was.linkage === 'dynamic' && now.linkage === 'static' && now.kind === 'executable')
    add('static', 'dynamic', 'static');
  return lost;
}

function changedCommands(before: BuildSide['commands'], after: BuildSide['commands']): BuildDiff['commands'] {
  const old = new Map<string, number>();
  for (const c of before) if (c.durationMs !== null) old.set(`${c.stage}\u0000${c.command}`, c.durationMs);
  const changed: BuildDiff['commands'] = [];
  for (const c of after) {
    const beforeMs = old.get(`${c.stage}\u0000${c.command}`);
    if (beforeMs === undefined || c.durationMs === null) continue;
    const delta = Math.abs(c.durationMs - beforeMs);
    if (delta > TIME_NOISE.ms && delta > TIME_NOISE.ratio * Math.min(beforeMs, c.durationMs)) {
      changed.push({ stage: c.stage, command: c.command, beforeMs, afterMs: c.durationMs });
    }
  }
  return changed;
}

function brief(f: InstalledFile) {
  return { path: f.path, size: f.size, ...(f.sha256 ? { sha256: f.sha256 } : {}) };
}

function total(files: readonly InstalledFile[]): number {
  return files.reduce((sum, f) => sum + f.size, 0);
}

function without(list: readonly string[] | undefined, other: readonly string[] | undefined): string[] {
  const skip = new Set(other ?? []);
  return [...new Set(list ?? [])].filter((x) => !skip.has(x)).sort();
}
