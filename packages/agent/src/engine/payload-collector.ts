import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import type { FileChange, StageContainer } from './container-runtime.js';

/** One thing the install put on the filesystem, at the path it is installed at. */
export interface PayloadEntry {
  path: string;
  /** `special`: a device node or fifo (`target` says which); never package content, but the policy flags it. */
  type: 'file' | 'symlink' | 'directory' | 'special';
  mode: number;
  size: number;
  mtime?: Date;
  sha256?: string;
  target?: string;
  /** Where a file's content waits on the host (flat names: a payload's symlinks are never followed here). */
  staged?: string;
}

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

export interface CollectOptions {
  /** The DESTDIR of the install: files under it count at the path below it. */
  destdir: string;
  /** Kiln's own directory in the container (holds DESTDIR); nothing else in it is payload. */
  kilnDir: string;
  workspace: string;
  /** Where volumes are mounted (Docker leaves an empty mount point in the layer). */
  mountTargets: readonly string[];
  /** Host directory for the content of files (the caller removes it). */
  stagingDir: string;
  /** Payloads larger than this fail before more of them is read (tar headers give each size first). */
  limitBytes?: number;
}

/** The install produced more than the operator's KILN_PAYLOAD_LIMIT. */
export class PayloadTooLargeError extends Error {
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `the payload is larger than the limit of ${limitBytes} bytes (at least ${sizeBytes} bytes; KILN_PAYLOAD_LIMIT)`,
    );
    this.name = 'PayloadTooLargeError';
  }
}

/**
 * What an install stage put on the filesystem, found from the container's
 * filesystem diff, so it does not matter whether the build honoured DESTDIR:
 * files under DESTDIR count at their path below it, files written anywhere
 * else count where they are. Content is hashed while it streams to the host.
 */
export async function collectPayload(container: StageContainer, options: CollectOptions): Promise<PayloadEntry[]> {
  const changes = (await container.changes()).filter((c) => c.change !== 'deleted' && isPayloadPath(c.path, options));
  const roots = await archiveRoots(container, changes);
  const entries = new Map<string, PayloadEntry>();
  const byContainerPath = new Map<string, PayloadEntry>();
  let counter = 0;
  let total = 0;
  for (const root of roots) {
    const tar = await container.readTar(root);
    const reader = extract();
    const parent = path.posix.dirname(root);
    tar.on('error', (err: Error) => reader.destroy(err));
    tar.pipe(reader);
    for await (const entry of reader) {
      const header = entry.header;
      const containerPath = path.posix.join(parent, header.name).replace(/(.)\/+$/, '$1');
      const installed = installedPath(containerPath, options);
      const inRoot = containerPath === root || containerPath.startsWith(`${root}/`);
      if (!inRoot || installed === null || !isPayloadPath(containerPath, options)) {
        entry.resume();
        continue;
      }
      const base = {
        path: installed,
        mode: (header.mode ?? 0) & 0o7777,
        ...(header.mtime ? { mtime: header.mtime } : {}),
      };
      if (header.type === 'file' || header.type === 'contiguous-file') {
        total += header.size ?? 0;
        if (options.limitBytes !== undefined && total > options.limitBytes) {
          // Stop reading at once: neither the rest of this file nor the archive is wanted.
          const error = new PayloadTooLargeError(total, options.limitBytes);
          tar.destroy();
          reader.destroy(error);
          throw error;
        }
        const staged = path.join(options.stagingDir, String(counter++));
        const hash = createHash('sha256');
        let size = 0;
        await pipeline(
          entry,
          new Transform({
            transform(chunk: Buffer, _encoding, next) {
              hash.update(chunk);
              size += chunk.length;
              next(null, chunk);
            },
          }),
          createWriteStream(staged, { mode: 0o600 }),
        );
        const file: PayloadEntry = { ...base, type: 'file', size, sha256: hash.digest('hex'), staged };
        entries.set(installed, file);
        byContainerPath.set(containerPath, file);
      } else if (header.type === 'link') {
        // A hard link: the same content as an entry earlier in the archive.
        const original = byContainerPath.get(path.posix.join(parent, header.linkname ?? ''));
        if (original?.type === 'file') entries.set(installed, { ...original, ...base, type: 'file' });
        entry.resume();
      } else if (header.type === 'symlink') {
        const target = header.linkname ?? '';
        entries.set(installed, { ...base, type: 'symlink', size: Buffer.byteLength(target), target });
        entry.resume();
      } else if (header.type === 'directory') {
        entries.set(installed, { ...base, type: 'directory', size: 0 });
        entry.resume();
      } else {
        // Devices, fifos: nothing a package installs, but worth a flag.
        entries.set(installed, { ...base, type: 'special', size: 0, target: header.type });
        entry.resume();
      }
    }
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The fewest paths to fetch: an added directory brings everything below it;
 * a modified directory (it has changed children) is not fetched, its children
 * are; a modified leaf is fetched unless it is a directory (whose only change
 * was its own metadata: fetching it would copy, say, all of /usr/lib).
 */
async function archiveRoots(container: StageContainer, changes: FileChange[]): Promise<string[]> {
  const paths = new Set(changes.map((c) => c.path));
  const added = new Set(changes.filter((c) => c.change === 'added').map((c) => c.path));
  const hasChildren = new Set<string>();
  for (const p of paths)
    for (let dir = path.posix.dirname(p); dir !== '/' && dir !== '.'; dir = path.posix.dirname(dir))
      hasChildren.add(dir);
  const roots: string[] = [];
  for (const change of changes) {
    if (ancestors(change.path).some((a) => added.has(a))) continue;
    if (change.change === 'added') {
      roots.push(change.path);
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

function installedPath(containerPath: string, options: CollectOptions): string | null {
  if (containerPath === options.destdir || containerPath === '/') return null;
  if (containerPath.startsWith(`${options.destdir}/`)) return containerPath.slice(options.destdir.length);
  return containerPath;
}

function isPayloadPath(p: string, options: CollectOptions): boolean {
  const under = (dir: string) => p === dir || p.startsWith(`${dir}/`);
  if (under(options.destdir)) return true;
  if (under(options.kilnDir)) return false;
  if (under(options.workspace) || options.mountTargets.some(under)) return false;
  return !NOT_PAYLOAD.some(under);
}
