import { StringDecoder } from 'node:string_decoder';
import type { CommandReport } from '@kiln/shared';
import type { OutputStreamName } from './container-runtime.js';
import { formatBytes, formatLimitDuration } from './limits-text.js';
import { MarkerSplitter } from './stage-markers.js';
import type { SecretMasker } from './secret-masker.js';
import type { PreparedStage } from './stage-container.js';

export interface StageRun {
  stage: string;
  lines: readonly string[];
  token: string;
  timeoutMs: number;
  idleTimeoutMs: number;
  memoryBytes: number;
  pids: number;
  masker: SecretMasker;
  signal?: AbortSignal;
  /** Masked output, in order, with markers taken out. */
  onOutput(stream: OutputStreamName, text: string): void;
  onCommandStarted?(index: number, command: string): void;
  onCommandFinished?(index: number, command: CommandReport): void;
  now?: () => number;
}

export interface StageResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  /** The container's exit code; null when Kiln stopped it (timeout, cancel). */
  exitCode: number | null;
  durationMs: number;
  /** The lines that ran, in order; command text is masked. */
  commands: CommandReport[];
  /** Why the stage did not succeed, for people: `exited 2`, `timed out after 20m`. */
  error?: string;
  /** The line that failed (0-based), when one did. */
  failedIndex?: number;
  /** The script called `exit 0` before its last line: the stage succeeded, later lines did not run. */
  endedEarly?: boolean;
}

/** What busybox, dash, bash and make print when fork() fails (EAGAIN: the pids limit). */
const FORK_FAILURE = /can't fork|cannot fork|fork: retry|fork: Resource temporarily unavailable/i;
/**
 * A failed fork alone may be a build printing that text, or a momentary peak
 * that bash retries through. When the container is at its process limit, or
 * failures keep coming, it is a fork bomb: the stage is killed rather than
 * left to saturate the host until its timeout.
 */
const FORK_FAILURE_MAX = 10;
const PIDS_CHECK_INTERVAL_MS = 1000;

/**
 * Runs one stage in its prepared container: starts it, follows its output
 * (markers out, secrets masked), enforces the stage and no-output timeouts and
 * cancellation by killing the container, and reads back each line's exit code
 * and time.
 */
type StopReason = 'timeout' | 'idle' | 'cancel' | 'pids';

export async function runStage(prepared: PreparedStage, run: StageRun): Promise<StageResult> {
  const now = run.now ?? (() => performance.now());
  const { container } = prepared;
  const commands: Array<CommandReport & { startedAt: number; ended: boolean }> = [];
  let done = false;
  let forkFailures = 0;
  let refusedForks = 0;
  let lastPidsCheck = Number.NEGATIVE_INFINITY;
  let stoppedFor: StopReason | null = null;
  /** The line that failed or that Kiln stopped at. */
  let failedIndex: number | undefined;
  let lastOutput = now();

  const stop = (reason: StopReason) => {
    if (stoppedFor) return;
    stoppedFor = reason;
    const open = commands.findIndex((c) => !c.ended);
    if (open >= 0) failedIndex = open;
    void container.kill();
  };
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  const maskers = { stdout: run.masker.stream(), stderr: run.masker.stream() };
  const splitter = new MarkerSplitter(run.token);
  const emit = (stream: OutputStreamName, text: string) => {
    if (!text) return;
    if (FORK_FAILURE.test(text)) onForkFailure();
    const shown = maskers[stream].push(text);
    if (shown) run.onOutput(stream, shown);
  };
  // Output saying a fork failed: if the container is at its process limit, it is a fork bomb; stop it now.
  const onForkFailure = () => {
    forkFailures++;
    if (forkFailures >= FORK_FAILURE_MAX) return stop('pids');
    if (now() - lastPidsCheck < PIDS_CHECK_INTERVAL_MS) return;
    lastPidsCheck = now();
    void container.processCount().then((pids) => {
      // At the limit, give or take the few that exit between the failure and the look.
      if (pids && pids.limit > 0 && pids.current >= pids.limit - 2) stop('pids');
    });
  };
  const handleStdout = (text: string) => {
    for (const piece of splitter.push(text)) {
      if ('text' in piece) {
        emit('stdout', piece.text);
        continue;
      }
      const marker = piece.marker;
      if (marker.kind === 'done') {
        done = true;
      } else if (marker.kind === 'start') {
        const command = run.masker.mask(run.lines[marker.index] ?? '');
        commands.push({ command, exitCode: null, durationMs: 0, startedAt: now(), ended: false });
        run.onCommandStarted?.(marker.index, command);
      } else {
        const entry = commands.at(-1);
        if (!entry || entry.ended) continue;
        entry.ended = true;
        entry.exitCode = marker.exitCode;
        entry.durationMs = Math.round(now() - entry.startedAt);
        run.onCommandFinished?.(marker.index, strip(entry));
        if (marker.exitCode !== 0 && failedIndex === undefined) failedIndex = commands.length - 1;
        // The kernel refused forks during this line: whatever its exit code, the build ran into the process limit.
        if (marker.refused > 0 && !stoppedFor) {
          refusedForks = marker.refused;
          failedIndex = commands.length - 1;
          stop('pids');
        }
      }
    }
  };
  prepared.route((stream, chunk) => {
    lastOutput = now();
    const text = decoders[stream].write(chunk);
    if (stream === 'stdout') handleStdout(text);
    else emit('stderr', text);
  });

  const onAbort = () => stop('cancel');
  if (run.signal?.aborted) {
    return { status: 'cancelled', exitCode: null, durationMs: 0, commands: [], error: 'cancelled' };
  }
  run.signal?.addEventListener('abort', onAbort, { once: true });

  const startedAt = now();
  let stageTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  try {
    await container.start();
    // A cancel that came while the container was starting found nothing to kill yet.
    if (stoppedFor) void container.kill();
    lastOutput = now();
    stageTimer = setTimeout(() => stop('timeout'), run.timeoutMs);
    // One timer re-armed to the last output, rather than one per chunk.
    const armIdle = (delay: number) => {
      idleTimer = setTimeout(() => {
        const quiet = now() - lastOutput;
        if (quiet >= run.idleTimeoutMs) stop('idle');
        else armIdle(run.idleTimeoutMs - quiet);
      }, delay);
    };
    armIdle(run.idleTimeoutMs);
    const exit = await container.wait();
    // The output closes with the container; a bounded wait covers a connection that lingers.
    await Promise.race([prepared.ended, delay(2000)]);
    const durationMs = Math.round(now() - startedAt);

    handleStdout(decoders.stdout.end());
    for (const piece of splitter.flush()) if ('text' in piece) emit('stdout', piece.text);
    emit('stderr', decoders.stderr.end());
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = maskers[stream].flush();
      if (rest) run.onOutput(stream, rest);
    }

    const killed = stoppedFor !== null;
    const open = commands.findIndex((c) => !c.ended);
    if (open >= 0) {
      const entry = commands[open]!;
      entry.exitCode = killed ? null : exit.exitCode;
      entry.durationMs = Math.round(now() - entry.startedAt);
      entry.ended = true;
      run.onCommandFinished?.(open, strip(entry));
      failedIndex ??= open;
    }
    const result = (status: StageResult['status'], exitCode: number | null, error?: string): StageResult => ({
      status,
      exitCode,
      durationMs,
      commands: commands.map(strip),
      ...(error ? { error } : {}),
      ...(status !== 'succeeded' && failedIndex !== undefined ? { failedIndex } : {}),
      ...(status === 'succeeded' && !done ? { endedEarly: true } : {}),
    });
    const pidsLimit = `the limit of ${run.pids} processes was reached`;
    // Set from callbacks, which the compiler cannot see: read it afresh.
    switch (stoppedFor as StopReason | null) {
      case 'cancel':
        return result('cancelled', null, 'cancelled');
      case 'timeout':
        return result('failed', null, `timed out after ${formatLimitDuration(run.timeoutMs)}`);
      case 'idle':
        return result('failed', null, `no output for ${formatLimitDuration(run.idleTimeoutMs)}`);
      case 'pids': {
        const refused = refusedForks > 0 ? `, ${refusedForks} process starts refused` : '';
        return result('failed', null, `killed: ${pidsLimit}${refused} (a fork bomb?)`);
      }
    }
    if (exit.oomKilled)
      return result('failed', exit.exitCode, `killed: out of memory (limit ${formatBytes(run.memoryBytes)})`);
    if (exit.exitCode !== 0) {
      const detail = forkFailures > 0 ? ` (could not start a process: ${pidsLimit})` : '';
      return result('failed', exit.exitCode, `exited ${exit.exitCode}${detail}`);
    }
    return result('succeeded', 0);
  } finally {
    clearTimeout(stageTimer);
    clearTimeout(idleTimer);
    run.signal?.removeEventListener('abort', onAbort);
  }
}

function strip(entry: CommandReport & { startedAt: number; ended: boolean }): CommandReport {
  return { command: entry.command, exitCode: entry.exitCode, durationMs: entry.durationMs };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
