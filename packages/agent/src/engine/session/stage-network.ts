import { toError } from '@kiln/shared';
import { BuildError } from './build-error.js';
import type { SessionContext } from './session-context.js';
import type { PlannedStage } from './stage-plan.js';

/**
 * The network is decided per phase, as Debian's build daemons do: prepare
 * may fetch build dependencies; later stages run with none unless the
 * manifest asks (`network: true`) and the operator allows it. Where there is
 * one, it is Kiln's isolated network unless the operator chose otherwise.
 */
export async function networkFor(ctx: SessionContext, stage: PlannedStage): Promise<string> {
  const wanted = stage.role === 'prepare' ? stage.section.network !== false : stage.section.network === true;
  const kind = ctx.deps.limits.network;
  if (!wanted || kind === 'none') return 'none';
  if (kind !== 'isolated') return kind;
  if (!ctx.deps.isolation) throw new BuildError('KILN_NETWORK=isolated, but this engine has no build network');
  return ctx.deps.isolation.network().catch((err: unknown) => {
    throw new BuildError(toError(err).message, { cause: err });
  });
}

/** A stage after prepare that asks for a network is refused up front unless the operator allows it. */
export function checkNetworkRequests(ctx: SessionContext): void {
  if (ctx.deps.limits.allowStageNetwork) return;
  const { stages, install } = ctx.request.manifest;
  const asking = [...stages, ...(install ? [{ name: 'install', ...install }] : [])].filter((s) => s.network);
  if (asking.length > 0) {
    throw new BuildError(
      `stage "${asking[0]!.name}" asks for network: true, which this Kiln does not allow after prepare ` +
        '(fetch dependencies in prepare; the operator may allow it with KILN_ALLOW_STAGE_NETWORK)',
    );
  }
}
