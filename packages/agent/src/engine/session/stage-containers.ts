import { randomBytes } from 'node:crypto';
import { toError } from '@kiln/shared';
import type { ContainerSpec, Mount, StageContainer } from '../container-runtime.js';
import { buildLabels } from '../labels.js';
import { prepareStage, type PreparedStage } from '../stage-container.js';
import { renderStageScript, STAGE_COMMAND } from '../stage-script.js';
import { DESTDIR_PATH, WORKSPACE_PATH } from '../types.js';
import { imageProblem } from './build-error.js';
import type { SessionContext } from './session-context.js';
import { networkFor } from './stage-network.js';
import type { PlannedStage } from './stage-plan.js';

/** A stage's container being made ahead of time; a failure surfaces when it is needed. */
export type PendingStage = Promise<{ prepared: PreparedStage } | { error: Error }>;

/**
 * Every container a build makes, from the moment it is asked for until it is
 * removed: made ahead, taken by its stage, discarded when the stage is done,
 * and whatever is left removed at the end, whatever happened.
 */
export class StageContainers {
  private readonly containers = new Set<StageContainer>();
  private readonly pending = new Set<PendingStage>();
  private readonly removals: Array<Promise<Error | null>> = [];

  constructor(private readonly ctx: SessionContext) {}

  /** Starts making a fresh container for the stage (created, attached, script on its stdin; not started). */
  make(stage: PlannedStage, image: string, mounts: Mount[], workdir = WORKSPACE_PATH): PendingStage {
    const { deps, request, env, token } = this.ctx;
    const { limits, owner } = deps;
    const spec: ContainerSpec = {
      name: containerName(request.buildId, stage.name),
      image,
      entrypoint: STAGE_COMMAND.slice(0, 1),
      command: STAGE_COMMAND.slice(1),
      stdin: true,
      workingDir: workdir,
      labels: buildLabels(owner, request.buildId, stage.role, stage.name),
      mounts,
      memoryBytes: limits.memoryBytes,
      cpus: limits.cpus,
      pids: limits.pids,
      network: 'none',
    };
    const script = renderStageScript({
      lines: stage.section.script,
      env: env.vars,
      token,
      workdir,
      ...(stage.role === 'install' ? { destdir: DESTDIR_PATH } : {}),
    });
    const pending: PendingStage = networkFor(this.ctx, stage)
      .then((network) => prepareStage(deps.runtime, { ...spec, network }, script))
      .then(
        (prepared) => {
          this.containers.add(prepared.container);
          return { prepared };
        },
        (err: unknown) => ({ error: toError(err) }),
      );
    this.pending.add(pending);
    return pending;
  }

  /** The container made for a stage, or the reason it could not be made. */
  async take(pending: PendingStage): Promise<PreparedStage> {
    const made = await pending;
    this.pending.delete(pending);
    if ('error' in made) throw imageProblem(made.error) ?? made.error;
    return made.prepared;
  }

  /** A finished stage's container goes at once, in the background: the next stage need not wait for it. */
  discard(stage: PreparedStage): void {
    this.containers.delete(stage.container);
    const removal = stage.container.remove().then(
      () => null,
      (err: unknown) => toError(err),
    );
    this.removals.push(removal);
  }

  /** Every container this build made (or is still making) is removed, whatever happened. */
  async removeAll(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    const results = await Promise.allSettled([...this.containers].map((c) => c.remove()));
    for (const result of results) {
      if (result.status === 'rejected') this.ctx.logger?.warn({ err: result.reason }, 'could not remove a container');
    }
    for (const error of await Promise.all(this.removals)) {
      if (error) this.ctx.logger?.warn({ err: error }, 'could not remove a container');
    }
  }
}

function containerName(buildId: string, stage: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `kiln-${safe(buildId).slice(0, 40)}-${safe(stage)}-${randomBytes(3).toString('hex')}`;
}
