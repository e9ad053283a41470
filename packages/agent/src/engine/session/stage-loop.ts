import type { BuildReport, InstallReport } from '@kiln/shared';
import type { Mount } from '../container-runtime.js';
import { inspectPayload } from './payload-inspection.js';
import type { CompilerImage } from './prepare-cache.js';
import { runPlannedStage } from './run-stage.js';
import type { Session } from './session-context.js';
import type { PendingStage } from './stage-containers.js';
import type { PlannedStage } from './stage-plan.js';

/**
 * Stage containers made ahead of the one running. Making one (create, copy
 * the script in, attach) takes longer than a short stage runs; two ahead keep
 * a container ready. Unused ones (after a failure) are removed with the rest.
 */
const LOOKAHEAD = 2;

/** How the stages ended: all ran (with install's payload, if any), or one ended the build. */
export type StagesOutcome =
  { kind: 'completed'; payload: InstallReport | null } | { kind: 'ended'; report: BuildReport };

/**
 * Each planned stage in a fresh container of the compiler image, in order,
 * its container made ahead while earlier stages run. The first stage waits
 * for the workspace (the checkout may still be writing it); install's
 * container is read for the payload before it goes.
 */
export async function runStages(
  session: Session,
  plan: readonly PlannedStage[],
  compiler: CompilerImage,
  mounts: Mount[],
): Promise<StagesOutcome> {
  const { containers, report, clock } = session;
  const made = new Map<number, PendingStage>();
  const makeAhead = (from: number) => {
    for (let j = from; j < Math.min(plan.length, from + LOOKAHEAD); j++) {
      if (!made.has(j)) made.set(j, containers.make(plan[j]!, compiler.info.id, mounts));
    }
  };
  makeAhead(0);
  // The workspace may still be being written (checkout overlaps making the containers).
  await session.request.workspaceReady;
  let payload: InstallReport | null = null;
  for (let i = 0; i < plan.length; i++) {
    const stage = plan[i]!;
    const ended = clock.start(stage.role === 'install' ? 'install' : 'stage', stage.name);
    const current = await containers.take(made.get(i)!);
    makeAhead(i + 1);
    const result = await runPlannedStage(session, stage, current, compiler.ref).finally(ended);
    if (result.status !== 'succeeded') {
      const stageReport = report.lastStage()!;
      report.skip(plan.slice(i + 1));
      return { kind: 'ended', report: report.finishAfter(result.status, stageReport, result) };
    }
    if (stage.role === 'install') {
      const inspected = await inspectPayload(session, current, mounts);
      report.setFlags(inspected.flags);
      payload = inspected.install;
    } else containers.discard(current);
  }
  return { kind: 'completed', payload };
}
