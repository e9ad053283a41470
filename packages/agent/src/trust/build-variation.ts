import { randomBytes } from 'node:crypto';
import os from 'node:os';

/**
 * How the second build of a reproducibility check differs from the first
 * (as Debian's reprotest varies a build): where the source is, the time
 * zone, the locale, the umask, the host name, how many CPUs it sees, and,
 * where the compiler image has libfaketime, the clock. SOURCE_DATE_EPOCH is
 * the same in both: it is the one time a reproducible build may use.
 */
export interface BuildVariation {
  /** Where the checkout is mounted instead of /workspace. */
  workspacePath: string;
  env: Array<{ name: string; value: string }>;
  umask: string;
  hostname: string;
  /** The CPUs the containers may use (`docker run --cpuset-cpus`), so `nproc` and `make -j` see fewer. */
  cpuset?: string;
  clockShiftDays: number;
}

export const CLOCK_SHIFT_MARK = 'kiln: the clock of this stage is shifted by';

export function makeVariation(cpuCount: number = os.cpus().length): BuildVariation {
  const tag = randomBytes(4).toString('hex');
  return {
    workspacePath: `/build/reproducible-${tag}/source-tree`,
    env: [
      { name: 'TZ', value: 'Etc/GMT-14' },
      { name: 'LANG', value: 'fr_CH.UTF-8' },
      { name: 'LC_ALL', value: 'fr_CH.UTF-8' },
      { name: 'LANGUAGE', value: 'fr_CH:fr' },
    ],
    umask: '0002',
    hostname: `kiln-check-${tag}`,
    ...(cpuCount > 1 ? { cpuset: `0-${Math.max(0, Math.floor(cpuCount / 2) - 1)}` } : {}),
    clockShiftDays: 398,
  };
}

/**
 * Shell lines run before a stage's first line: the clock shift through
 * libfaketime's LD_PRELOAD, only where the image has the library (elsewhere
 * every program would print a loader error). A line on stderr says it
 * happened, so the check can report whether the clock was shifted.
 */
export function variationPreamble(variation: BuildVariation): string[] {
  const days = `+${variation.clockShiftDays}d`;
  return [
    'for __kiln_ft in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do',
    `  if [ -e "$__kiln_ft" ]; then export LD_PRELOAD="$__kiln_ft" FAKETIME='${days}' FAKETIME_DONT_FAKE_MONOTONIC=1;`,
    `    echo '${CLOCK_SHIFT_MARK} ${days} (faketime)' >&2; break; fi`,
    'done',
  ];
}

/** What the report says was varied. */
export function describeVariation(variation: BuildVariation, clockShifted: boolean): Record<string, string> {
  const env = Object.fromEntries(variation.env.map((v) => [v.name, v.value]));
  return {
    buildPath: `${variation.workspacePath} (first build: /workspace)`,
    TZ: `${env.TZ ?? ''} (first: unset, UTC)`,
    locale: `LANG=${env.LANG ?? ''} LC_ALL=${env.LC_ALL ?? ''} (first: unset, POSIX)`,
    umask: `${variation.umask} (first: 0022)`,
    hostname: `${variation.hostname} (first: the container's id)`,
    cpus: variation.cpuset
      ? `CPUs ${variation.cpuset} of ${os.cpus().length} (first: all)`
      : 'not varied: this host has one CPU',
    clock: clockShifted
      ? `+${variation.clockShiftDays} days (libfaketime in the compiler image)`
      : 'not shifted: the compiler image has no libfaketime (install faketime in prepare to vary the clock)',
  };
}

/** The variation's variables go first: a manifest that sets TZ or LANG itself keeps its own. */
export function withVariation<T extends { vars: Array<{ name: string; value: string }> }>(
  env: T,
  variation: BuildVariation | undefined,
): T {
  if (!variation) return env;
  const own = new Set(env.vars.map((v) => v.name));
  return { ...env, vars: [...variation.env.filter((v) => !own.has(v.name)), ...env.vars] };
}
