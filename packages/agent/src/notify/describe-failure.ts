import type { EmailStage, FailureEmailData } from './failure-email-data.js';

/** What broke, in the words of a subject line and a few labelled fields. */
export interface FailureDescription {
  /** After the package label: `failed in build: make -j2 exited 2`. */
  headline: string;
  stage: string | null;
  command: string | null;
  exitCode: number | null;
  /** `exited 2`, `timed out after 20m`, `killed: out of memory`, or the error's first line. */
  reason: string | null;
  /** Set for an invalid manifest: the file and the line of its first problem. */
  manifest: { file: string | null; line: number | null } | null;
}

const MANIFEST_ERROR = /^(\.(?:kiln|buildr)\.ya?ml): /;
const SUBJECT_COMMAND_LENGTH = 72;

export function describeFailure(data: FailureEmailData): FailureDescription {
  const verb = data.status === 'errored' ? 'errored' : data.status === 'failed' ? 'failed' : data.status;
  const manifest = manifestProblem(data);
  if (manifest) {
    const where = [manifest.file, manifest.line === null ? null : `line ${manifest.line}`].filter(Boolean).join(' ');
    return {
      headline: `${verb}: invalid manifest${where ? ` ${where}` : ''}`,
      stage: null,
      command: null,
      exitCode: null,
      reason: firstLine(data.error),
      manifest,
    };
  }
  const stage = failedStage(data);
  const stageName = data.failedStage ?? data.failure?.stage ?? stage?.name ?? null;
  const command = data.failedCommand ?? data.failure?.command ?? failedCommand(stage);
  const exitCode = data.exitCode ?? data.failure?.exitCode ?? stage?.exitCode ?? null;
  const reason =
    stage?.error ??
    data.failure?.reason ??
    (exitCode !== null && exitCode !== 0 ? `exited ${exitCode}` : null) ??
    firstLine(data.error);
  let headline: string;
  if (stageName && command) {
    const shown = shorten(command, SUBJECT_COMMAND_LENGTH);
    const what =
      reason === null
        ? shown
        : reason.startsWith(command)
          ? shorten(reason, SUBJECT_COMMAND_LENGTH + 40)
          : `${shown} ${reason}`;
    headline = `${verb} in ${stageName}: ${what}`;
  } else if (stageName) {
    headline = `${verb} in ${stageName}${reason ? `: ${shorten(reason, SUBJECT_COMMAND_LENGTH + 40)}` : ''}`;
  } else {
    headline = `${verb}${reason ? `: ${shorten(reason, SUBJECT_COMMAND_LENGTH + 40)}` : ''}`;
  }
  return { headline, stage: stageName, command, exitCode, reason, manifest: null };
}

function manifestProblem(data: FailureEmailData): FailureDescription['manifest'] {
  const match = data.error ? MANIFEST_ERROR.exec(data.error) : null;
  if (!match && data.failedStage !== 'manifest') return null;
  const file = match?.[1] ?? null;
  const line = data.error ? /\(line (\d+)\)/.exec(data.error) : null;
  return { file, line: line ? Number(line[1]) : null };
}

function failedStage(data: FailureEmailData): EmailStage | undefined {
  const named = data.failedStage ?? data.failure?.stage;
  return (
    (named ? data.stages.find((s) => s.name === named) : undefined) ??
    data.stages.find((s) => s.status === 'failed' || s.status === 'errored')
  );
}

function failedCommand(stage: EmailStage | undefined): string | null {
  if (!stage) return null;
  const failing = [...stage.commands].reverse().find((c) => c.exitCode !== 0);
  return failing?.command ?? null;
}

function firstLine(text: string | null): string | null {
  if (!text) return null;
  const line = text.split('\n', 1)[0]?.trim();
  return line ? line : null;
}

export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
