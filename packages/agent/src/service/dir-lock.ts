import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sleep } from '@kiln/shared';

/**
 * A lock between processes (several agents may share one cache folder): a
 * directory made with mkdir, which is atomic, holding the owner's host and
 * pid. A lock whose owner died on this host, or that is older than `staleMs`,
 * is broken.
 */
export interface DirLockOptions {
  staleMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export async function withDirLock<T>(
  lockPath: string,
  work: () => Promise<T>,
  options: DirLockOptions = {},
): Promise<T> {
  await acquire(lockPath, options);
  try {
    return await work();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}

async function acquire(lockPath: string, options: DirLockOptions): Promise<void> {
  const staleMs = options.staleMs ?? 30 * 60_000;
  await mkdir(path.dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockPath);
      await writeFile(path.join(lockPath, 'owner'), `${os.hostname()} ${process.pid}\n`);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`cannot create lock ${lockPath}`, { cause: err });
    }
    if (await isStale(lockPath, staleMs)) {
      await rm(lockPath, { recursive: true, force: true });
      continue;
    }
    if (options.signal?.aborted)
      throw new Error(`gave up waiting for lock ${lockPath}`, { cause: options.signal.reason });
    await sleep(options.pollMs ?? 100, options.signal);
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const info = await stat(lockPath);
    if (Date.now() - info.mtimeMs > staleMs) return true;
    const owner = (await readFile(path.join(lockPath, 'owner'), 'utf8').catch(() => '')).trim();
    const [host, pid] = owner.split(' ');
    // Just made, owner not written yet: not stale.
    if (!host || !pid) return false;
    return host === os.hostname() && !isAlive(Number(pid));
  } catch {
    // Gone already: try again.
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
