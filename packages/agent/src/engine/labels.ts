import os from 'node:os';

/**
 * Every container, volume and image Kiln creates carries these labels, so
 * that what a crashed process left behind can be found and removed, and
 * nothing else is ever touched.
 */
export const LABEL = {
  buildId: 'kiln.build-id',
  /** The host name of the process that created it. */
  owner: 'kiln.owner',
  /** That process's id: while it is alive, its resources are not orphans. */
  ownerPid: 'kiln.owner-pid',
  role: 'kiln.role',
  stage: 'kiln.stage',
  cacheKey: 'kiln.cache-key',
} as const;

/**
 * The Debian arch of an image's programs: scripts/setup.sh gives it to the base images it imports
 * (Docker calls every imported image amd64), the engine to the compiler images it commits.
 */
export const ARCH_LABEL = 'org.kiln.arch';

/** `prepare-cache` images and `cache` volumes are kept on purpose: they are caches, not leftovers. */
export type ResourceRole = 'prepare' | 'stage' | 'install' | 'network' | 'prepare-cache' | 'cache';
export const KEPT_ROLES: ReadonlySet<string> = new Set<ResourceRole>(['prepare-cache', 'cache']);

export interface Owner {
  host: string;
  pid: number;
}

export function currentOwner(): Owner {
  return { host: os.hostname(), pid: process.pid };
}

export function buildLabels(owner: Owner, buildId: string, role: ResourceRole, stage?: string): Record<string, string> {
  return {
    [LABEL.buildId]: buildId,
    [LABEL.owner]: owner.host,
    [LABEL.ownerPid]: String(owner.pid),
    [LABEL.role]: role,
    ...(stage ? { [LABEL.stage]: stage } : {}),
  };
}

/** Whether a process of this host is still running (a pid we may not signal is alive too). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
