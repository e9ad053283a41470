import type { Attestation, BuildFailure, BuildReport, InstallReport, PolicyFlag, StageReport } from '@kiln/shared';
import type { StageResult } from '../stage-runner.js';
import type { SessionContext } from './session-context.js';
import { skippedStage, type PlannedStage } from './stage-plan.js';

/**
 * The build's report, assembled as the build goes: each stage's report is
 * added once, when the stage ends; the report itself is made once, at the end.
 */
export class ReportAssembly {
  private readonly stages: StageReport[] = [];
  private flags: readonly PolicyFlag[] = [];
  private attestations: readonly Attestation[] = [];

  constructor(private readonly ctx: Pick<SessionContext, 'log' | 'request' | 'startedAt' | 'arch' | 'emulated'>) {}

  /** The position of the next stage (its events and rows carry it). */
  get nextPosition(): number {
    return this.stages.length;
  }

  lastStage(): StageReport | undefined {
    return this.stages.at(-1);
  }

  addStage(stage: StageReport): void {
    this.stages.push(stage);
  }

  /** The stages an early end left unrun. */
  skip(stages: readonly PlannedStage[]): void {
    for (const s of stages) this.stages.push(skippedStage(s.name));
  }

  /** What the content policy found in the payload. */
  setFlags(flags: readonly PolicyFlag[]): void {
    this.flags = flags;
  }

  flagsFound(): readonly PolicyFlag[] {
    return this.flags;
  }

  /** The SBOM and provenance made for the payload. */
  setAttestations(attestations: readonly Attestation[]): void {
    this.attestations = attestations;
  }

  finish(
    status: BuildReport['status'],
    error: string | null,
    install: InstallReport | null,
    failure?: BuildFailure,
  ): BuildReport {
    if (error) this.ctx.log.system('', `build ${status}: ${error}\n`);
    return {
      status,
      package: this.ctx.request.package,
      arch: this.ctx.arch,
      emulated: this.ctx.emulated,
      durationMs: Date.now() - this.ctx.startedAt,
      stages: [...this.stages],
      install,
      error,
      ...(this.ctx.request.sourceDateEpoch !== undefined ? { sourceDateEpoch: this.ctx.request.sourceDateEpoch } : {}),
      ...(this.attestations.length > 0 ? { attestations: [...this.attestations] } : {}),
      ...(this.flags.length > 0 ? { flags: [...this.flags] } : {}),
      ...(failure ? { failure } : {}),
    };
  }

  /** The report of a build a stage ended: a failing line (or limit) names stage, line and exit code. */
  finishAfter(status: 'failed' | 'cancelled', stage: StageReport, result: StageResult): BuildReport {
    if (status === 'cancelled') return this.finish('cancelled', 'cancelled', null);
    const index = result.failedIndex;
    const command = index === undefined ? undefined : result.commands[index];
    const where = index === undefined || !command ? '' : ` at line ${index + 1} (${command.command})`;
    const reason = result.error ?? 'failed';
    return this.finish('failed', `stage "${stage.name}" failed${where}: ${reason}`, null, {
      stage: stage.name,
      ...(command ? { command: command.command, exitCode: command.exitCode } : { exitCode: result.exitCode }),
      reason,
    });
  }

  /** A failure that is no command's: the payload over its limit, or flagged by a failing content policy. */
  failed(stage: string, reason: string): BuildReport {
    return this.finish('failed', `stage "${stage}" failed: ${reason}`, null, { stage, reason });
  }
}
