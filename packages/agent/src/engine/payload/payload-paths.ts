import path from 'node:path';
import type { FileChange, StageContainer } from '../container-runtime.js';

/**
 * Paths an install changes that are not part of what it installs: the
 * kernel's and Docker's own, scratch space, caches and logs, the workspace
 * (a mount, never in the diff anyway) and Kiln's own files.
 */
const NOT_PAYLOAD = [
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/tmp',
  '/var/tmp',
  '/var/run',
  '/var/cache',
  '/var/log',
  '/var/lib/apt',
  '/var/lib/dpkg',
  '/root',
  '/workspace',
  '/.dockerenv',
  '/etc/hostname',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/mtab',
  '/etc/ld.so.cache',
  // Where Docker mounts its init (Init: true): an empty placeholder in the container's layer.
  '/sbin/docker-init',
  '/usr/sbin/docker-init',
];

/** Where the install ran: what in its container counts as payload, and at which path. */
export interface PayloadPaths {
  /** The DESTDIR of the install: files under it count at the path below it. */
  destdir: string;
  /** Kiln's own directory in the container (holds DESTDIR); nothing else in it is payload. */
  kilnDir: string;
  workspace: string;
  /** Where volumes are mounted (Docker leaves an empty mount point in the layer). */
  mountTargets: readonly string[];
}

/**
 * The fewest paths to fetch from the container's filesystem diff, so it does
 * not matter whether the build honoured DESTDIR: an added directory brings
 * everything below it; a modified directory (it has changed children) is not
 * fetched, its children are; a modified leaf is fetched unless it is a
 * directory (whose only change was its own metadata: fetching it would copy,
 * say, all of /usr/lib). Each path fetched costs a round trip to Docker.
 */
export async function archiveRoots(container: StageContainer, paths: PayloadPaths): Promise<string[]> {
  const changes = (await container.changes()).filter((c) => c.change !== 'deleted');
  const payload = changes.filter((c) => isPayloadPath(c.path, paths));
  const under = (list: FileChange[]) => new Set(list.flatMap((c) => ancestors(c.path)));
  const hasChildren = under(payload);
  // An added directory that holds only what is not payload brings nothing: /sbin, made
  // by Docker for its init in an image without one, or a directory of scratch files.
  const holdsOthers = under(changes.filter((c) => !isPayloadPath(c.path, paths)));
  const added = new Set(payload.filter((c) => c.change === 'added').map((c) => c.path));
  const roots: string[] = [];
  for (const change of payload) {
    if (ancestors(change.path).some((a) => added.has(a))) continue;
    if (change.change === 'added') {
      if (!holdsOthers.has(change.path) || hasChildren.has(change.path)) roots.push(change.path);
    } else if (!hasChildren.has(change.path)) {
      const stat = await container.stat(change.path);
      if (stat && !stat.isDirectory) roots.push(change.path);
    }
  }
  return roots.sort();
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let dir = path.posix.dirname(p); dir !== '/' && dir !== '.'; dir = path.posix.dirname(dir)) out.push(dir);
  return out;
}

/** The path a file is installed at (below DESTDIR, or where it was written); null for DESTDIR and / themselves. */
export function installedPath(containerPath: string, paths: PayloadPaths): string | null {
  if (containerPath === paths.destdir || containerPath === '/') return null;
  if (containerPath.startsWith(`${paths.destdir}/`)) return containerPath.slice(paths.destdir.length);
  return containerPath;
}

export function isPayloadPath(p: string, paths: PayloadPaths): boolean {
  const under = (dir: string) => p === dir || p.startsWith(`${dir}/`);
  if (under(paths.destdir)) return true;
  if (under(paths.kilnDir)) return false;
  if (under(paths.workspace) || paths.mountTargets.some(under)) return false;
  return !NOT_PAYLOAD.some(under);
}
