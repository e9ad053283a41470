import { randomBytes } from 'node:crypto';
import type { ContainerRuntime } from '../engine/container-runtime.js';
import { buildLabels, type Owner } from '../engine/labels.js';

export interface ImageRunOptions {
  runtime: ContainerRuntime;
  owner: Owner;
  buildId: string;
  /** What the container is for, in its name and `kiln.stage` label (`sbom`, `diffoscope`). */
  purpose: string;
  image: string;
  /** A POSIX shell script; it gets no network, no mounts unless given, and Kiln's usual limits. */
  script: string;
  mounts?: Array<{ source: string; target: string }>;
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** Output kept (stdout and stderr each); the rest is dropped. */
  limitBytes?: number;
}

/**
 * Runs a short script of Kiln's own in a fresh container of an image (no
 * network, labelled with the build so the reaper finds it if the agent
 * dies), and returns its output. The container is always removed.
 */
export async function runInImage(
  options: ImageRunOptions,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const limit = options.limitBytes ?? 4 * 1024 * 1024;
  const container = await options.runtime.create({
    name: `kiln-${options.buildId.slice(0, 40)}-${options.purpose}-${randomBytes(3).toString('hex')}`,
    image: options.image,
    entrypoint: ['/bin/sh', '-c'],
    command: [options.script],
    workingDir: '/',
    labels: buildLabels(options.owner, options.buildId, 'stage', options.purpose),
    mounts: (options.mounts ?? []).map((m) => ({ type: 'bind', ...m })),
    stdin: false,
    memoryBytes: options.memoryBytes,
    cpus: options.cpus,
    pids: options.pids,
    network: 'none',
  });
  try {
    const out: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
    const size = { stdout: 0, stderr: 0 };
    const { ended } = await container.attach((stream, chunk) => {
      if (size[stream] >= limit) return;
      out[stream].push(chunk.subarray(0, limit - size[stream]));
      size[stream] += chunk.length;
    });
    await container.start();
    const exit = await container.wait();
    await ended;
    return {
      exitCode: exit.exitCode,
      stdout: Buffer.concat(out.stdout).toString('utf8'),
      stderr: Buffer.concat(out.stderr).toString('utf8'),
    };
  } finally {
    await container.remove().catch(() => undefined);
  }
}
