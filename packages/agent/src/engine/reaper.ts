import type { Logger } from '@kiln/shared';
import type { ContainerRuntime, LabelledResource } from './container-runtime.js';
import { isProcessAlive, KEPT_ROLES, LABEL, type Owner } from './labels.js';

/** Containers first: a volume or image in use by one cannot be removed. */
const ORDER = { container: 0, volume: 1, image: 2 } as const;

/**
 * Removes what Kiln processes of this host left behind when they died:
 * resources whose owner is this host and whose owner process is gone. Other
 * Kiln processes on the same host are alive, so theirs are never touched;
 * caches are kept.
 */
export async function reapOrphans(runtime: ContainerRuntime, owner: Owner, logger?: Logger): Promise<number> {
  const resources = await runtime.list({ [LABEL.owner]: owner.host });
  const orphans = resources.filter((r) => {
    if (KEPT_ROLES.has(r.labels[LABEL.role] ?? '')) return false;
    const pid = Number(r.labels[LABEL.ownerPid]);
    return pid !== owner.pid && !isProcessAlive(pid);
  });
  return removeAll(runtime, orphans, logger, 'orphaned');
}

/** Removes everything labelled with one build id (a dead attempt's leftovers), caches excepted. */
export async function removeBuildResources(
  runtime: ContainerRuntime,
  buildId: string,
  logger?: Logger,
): Promise<number> {
  const resources = await runtime.list({ [LABEL.buildId]: buildId });
  return removeAll(
    runtime,
    resources.filter((r) => !KEPT_ROLES.has(r.labels[LABEL.role] ?? '')),
    logger,
    'left by an earlier attempt',
  );
}

async function removeAll(
  runtime: ContainerRuntime,
  resources: LabelledResource[],
  logger: Logger | undefined,
  why: string,
): Promise<number> {
  let removed = 0;
  for (const resource of [...resources].sort((a, b) => ORDER[a.type] - ORDER[b.type])) {
    try {
      await runtime.remove(resource);
      removed++;
      logger?.info(
        { [resource.type]: resource.id, buildId: resource.labels[LABEL.buildId] },
        `removed ${resource.type} ${why}`,
      );
    } catch (err) {
      // One stuck resource must not keep the others: log it and go on.
      logger?.warn({ err, [resource.type]: resource.id }, `could not remove ${resource.type}`);
    }
  }
  return removed;
}
