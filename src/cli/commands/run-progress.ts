import { formatDuration, formatSize } from '@kiln/shared';
import type { BuildEvents, LogChunk, PayloadProgress } from '@kiln/agent/engine';
import { neutralise } from '../terminal-text.js';

const TAIL_LINES = 6;
const REDRAW_MS = 200;

/**
 * What `kiln run` shows on stderr while a build runs. On a terminal: finished
 * stages and commands as lines that stay, under them a redrawn block with the
 * running command, its elapsed time and a tail of its output. Elsewhere
 * (a log file, CI): plain lines, the output as it comes.
 */
export interface Progress {
  events: BuildEvents;
  /** Removes the live block (before the report is printed, or on Ctrl-C). */
  close(): void;
  note(text: string): void;
}

export function createProgress(write: (text: string) => void, options: { live: boolean; columns?: number }): Progress {
  // A terminal that does not say its width reports 0.
  return options.live ? new LiveProgress(write, Math.max(40, options.columns || 100)) : new PlainProgress(write);
}

class PlainProgress implements Progress {
  private lastNewline = true;
  constructor(private readonly write: (text: string) => void) {}

  readonly events: BuildEvents = {
    stageStarted: (e) => this.line(`==> ${e.stage} (${e.image})`),
    // The reason of a failure is already in the log, as Kiln's own line.
    stageFinished: (e) =>
      this.line(
        `<== ${e.name} ${e.cached ? 'cached' : e.status}${e.durationMs ? ` in ${formatDuration(e.durationMs)}` : ''}`,
      ),
    commandFinished: (e) => {
      if (e.exitCode !== 0)
        this.line(`    exit ${e.exitCode < 0 ? 'none' : e.exitCode} after ${formatDuration(e.durationMs)}`);
    },
    log: (chunk) => {
      if (!chunk.text) return;
      this.write(neutralise(chunk.text, false));
      this.lastNewline = chunk.text.endsWith('\n');
    },
  };

  note(text: string): void {
    this.line(text);
  }

  close(): void {
    if (!this.lastNewline) this.write('\n');
    this.lastNewline = true;
  }

  private line(text: string): void {
    this.close();
    this.write(`${text}\n`);
  }
}

class LiveProgress implements Progress {
  private stage = '';
  private command = '';
  private stageCount = 0;
  private startedAt = 0;
  private tail: string[] = [''];
  /** While the install's payload is read and packed (after its stage's line): how far it is. */
  private payload = '';
  private drawnLines = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (text: string) => void,
    private readonly columns: number,
  ) {}

  readonly events: BuildEvents = {
    stageStarted: (e) => {
      this.stage = e.stage;
      this.stageCount = e.position + 1;
      this.command = '';
      this.tail = [''];
      this.startedAt = Date.now();
      this.ensureTimer();
      this.redraw();
    },
    commandStarted: (e) => {
      this.command = e.command;
      this.startedAt = Date.now();
      this.redraw();
    },
    commandFinished: (e) => {
      const mark = e.exitCode === 0 ? '\u2713' : '\u2717';
      const code = e.exitCode === 0 ? '' : `  exit ${e.exitCode < 0 ? 'none' : e.exitCode}`;
      this.print(`  ${mark} ${this.fit(e.command, this.columns - 24)}  ${formatDuration(e.durationMs)}${code}`);
    },
    stageFinished: (e) => {
      const mark = e.status === 'succeeded' ? '\u2713' : e.status === 'skipped' ? '-' : '\u2717';
      const what = e.cached ? 'cached' : e.status;
      this.command = '';
      this.stage = '';
      this.print(
        `${mark} ${e.name}: ${what}${e.durationMs ? ` in ${formatDuration(e.durationMs)}` : ''}${e.error ? ` (${e.error})` : ''}`,
      );
    },
    log: (chunk: LogChunk) => {
      if (chunk.stream === 'system') return;
      const parts = chunk.text.replace(/\r/g, '\n').split('\n');
      this.tail[this.tail.length - 1] += parts[0] ?? '';
      this.tail.push(...parts.slice(1));
      if (this.tail.length > TAIL_LINES + 1) this.tail = this.tail.slice(-(TAIL_LINES + 1));
    },
    payload: (e) => {
      this.payload = e.done ? '' : payloadText(e);
      if (!e.done) this.ensureTimer();
      this.redraw();
    },
  };

  note(text: string): void {
    this.print(text);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.redraw(), REDRAW_MS);
    this.timer.unref();
  }

  /** A line that stays: printed above the live block. */
  private print(text: string): void {
    this.clear();
    this.write(`${text}\n`);
    this.redraw();
  }

  private clear(): void {
    if (this.drawnLines > 0) this.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }

  private redraw(): void {
    this.clear();
    if (!this.stage) {
      if (!this.payload) return;
      this.write(`\x1b[1mpayload\x1b[0m ${this.fit(this.payload, this.columns - 8)}\n`);
      this.drawnLines = 1;
      return;
    }
    const elapsed = formatDuration(Date.now() - this.startedAt);
    const head = `\x1b[1m${this.stage}\x1b[0m [${this.stageCount}] ${this.command ? `$ ${this.fit(this.command, this.columns - this.stage.length - 20)}` : ''}  ${elapsed}`;
    const tail = this.tail.filter((line, i) => line !== '' || i < this.tail.length - 1).slice(-TAIL_LINES);
    const lines = [head, ...tail.map((line) => `\x1b[2m  ${this.fit(line, this.columns - 4)}\x1b[0m`)];
    this.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  private fit(text: string, width: number): string {
    // Control characters would break the redraw: show the text plainly.
    // eslint-disable-next-line no-control-regex
    const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x1f\x7f]/g, ' ');
    return plain.length > width ? `${plain.slice(0, Math.max(0, width - 1))}\u2026` : plain;
  }
}

/** `512 MiB of at most 1.0 GiB (50%), 1234 files, 3.2s`: the total is what Docker counted, an upper bound. */
export function payloadText(e: PayloadProgress): string {
  const of =
    e.bytesTotal === null
      ? ''
      : ` of at most ${formatSize(e.bytesTotal)} (${Math.floor((e.bytesDone / Math.max(1, e.bytesTotal)) * 100)}%)`;
  return `${formatSize(e.bytesDone)}${of}, ${e.files} files, ${formatDuration(e.elapsedMs)}`;
}
