import { DEFAULT_EMULATION_SLOWDOWN, toError, type StageReport } from '@kiln/shared';
import type { PreparedStage } from '../stage-container.js';
import { runStage, type StageResult } from '../stage-runner.js';
import { BuildError } from './build-error.js';
import type { Session } from './session-context.js';
import type { PlannedStage } from './stage-plan.js';

/**
 * Runs one planned stage in its prepared container: its lines in one shell,
 * output into the build's log, each command and the stage announced as they
 * start and end, and the stage's report added once it has ended.
 */
export async function runPlannedStage(
  session: Session,
  stage: PlannedStage,
  prepared: PreparedStage,
  image: string,
): Promise<StageResult> {
  const { report, log, logger } = session;
  const position = report.nextPosition;
  const events = session.request.events;
  const limits = session.deps.limits;
  // Under emulation every instruction is translated: the same work takes several times as long.
  const slowdown = session.emulated ? (limits.emulationSlowdown ?? DEFAULT_EMULATION_SLOWDOWN) : 1;
  events?.stageStarted?.({ stage: stage.name, position, image });
  logger?.info({ stage: stage.name, image }, 'stage started');
  const result = await runStage(prepared, {
    stage: stage.name,
    lines: stage.section.script,
    token: session.token,
    timeoutMs: (stage.section.timeoutMs ?? limits.stageTimeoutMs) * slowdown,
    idleTimeoutMs: limits.idleTimeoutMs * slowdown,
    memoryBytes: limits.memoryBytes,
    pids: limits.pids,
    masker: session.masker,
    ...(session.request.signal ? { signal: session.request.signal } : {}),
    onOutput: (stream, text) => log.output(stage.name, stream, text),
    onCommandStarted: (index, command) => {
      log.system(stage.name, `$ ${command}\n`);
      events?.commandStarted?.({ stage: stage.name, position, index, command });
    },
    onCommandFinished: (index, command) => {
      events?.commandFinished?.({
        stage: stage.name,
        position,
        index,
        command: command.command,
        exitCode: command.exitCode ?? -1,
        durationMs: command.durationMs,
      });
    },
  }).catch((err: unknown) => {
    const error = toError(err);
    // An image without a shell cannot run any stage: the manifest's problem, not the host's.
    if (/exec: "?\/bin\/sh"?|\/bin\/sh: no such file/i.test(error.message)) {
      throw new BuildError(`image ${image} has no /bin/sh: Kiln runs each stage's script with it`, { cause: err });
    }
    // The kernel could not run the image's programs: an image for another machine, or no emulator for it.
    if (/exec format error/i.test(error.message)) {
      throw new BuildError(
        `image ${image} cannot run here for ${session.arch}: exec format error ` +
          '(is it for another arch, or is no qemu binfmt_misc handler registered for this one?)',
        { cause: err },
      );
    }
    throw error;
  });
  if (result.endedEarly)
    log.system(stage.name, 'the script called exit 0 before its last line: later lines did not run\n');
  const stageReport: StageReport = {
    name: stage.name,
    status: result.status,
    image,
    exitCode: result.exitCode,
    durationMs: result.durationMs,
    commands: result.commands,
    ...(result.error ? { error: result.error } : {}),
  };
  report.addStage(stageReport);
  logger?.info(
    { stage: stage.name, status: result.status, exitCode: result.exitCode, durationMs: result.durationMs },
    'stage finished',
  );
  if (result.error) log.system(stage.name, `stage ${stage.name} ${result.status}: ${result.error}\n`);
  events?.stageFinished?.({ ...stageReport, position });
  return result;
}
