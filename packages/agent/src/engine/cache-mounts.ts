import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ContainerRuntime, Mount } from './container-runtime.js';
import { LABEL, type Owner } from './labels.js';
import { WORKSPACE_PATH } from './types.js';

export interface CacheOwner {
  /** The repository's identity (repoIdentity): caches are never shared across repositories. */
  repo: string;
  /** The package name the build makes (one repository may build several). */
  package: string;
  /** Set for an arch other than the host's: its caches hold another machine's files. */
  arch?: string;
}

/** One volume per repository, package and path: nobody else's build can read or poison it. */
export function cacheVolumeName(owner: CacheOwner, target: string): string {
  const arch = owner.arch ? `\0${owner.arch}` : '';
  const key = createHash('sha256')
    .update(`${owner.repo}\0${owner.package}\0${target}${arch}`)
    .digest('hex')
    .slice(0, 24);
  return `kiln-cache-${key}`;
}

/** The workspace, and the manifest's `cache` paths as volumes kept between builds of the same owner. */
export async function buildMounts(
  runtime: ContainerRuntime,
  host: Owner,
  workspace: string,
  cache: readonly string[],
  owner: CacheOwner,
  workspaceTarget: string = WORKSPACE_PATH,
): Promise<Mount[]> {
  const mounts: Mount[] = [{ type: 'bind', source: path.resolve(workspace), target: workspaceTarget }];
  for (const target of cache) {
    const name = cacheVolumeName(owner, target);
    await runtime.ensureVolume(name, {
      [LABEL.role]: 'cache',
      [LABEL.cacheKey]: `${owner.repo}\0${owner.package}:${target}${owner.arch ? ` (${owner.arch})` : ''}`.replace(
        /\0/g,
        ' ',
      ),
      [LABEL.owner]: host.host,
    });
    mounts.push({ type: 'volume', source: name, target });
  }
  return mounts;
}
