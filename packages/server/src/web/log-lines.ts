import { AnsiUp } from 'ansi_up';

/**
 * A build's log as numbered lines, from the rows the agent stores (chunks of
 * one stage and stream, split anywhere). Shared by the server, which renders
 * a page's log, and the browser script, which goes on from where the page
 * stopped with the rows of the live stream.
 *
 * Lines are numbered across the whole log (every attempt), so `#L123` means
 * one line for good. A new section starts at every change of attempt or
 * stage. A line a stream change interrupts ends there. Each `$ command` line
 * the agent writes before a command gets a second anchor, `#c-<attempt>-<stage>-<index>`,
 * that the failure box and the timeline link to without knowing line numbers.
 */
export interface LogRow {
  attempt: number;
  seq: number;
  stage: string | null;
  stream: string;
  text: string;
}

export interface LogSection {
  index: number;
  attempt: number;
  stage: string;
  /** The first section of this attempt's stage: it carries the stage's anchor. */
  first: boolean;
}

export interface LogSink {
  section(section: LogSection): void;
  line(n: number, html: string, stream: string, anchor: string | null): void;
  /** The unfinished last line, shown until its end comes (the browser only). */
  open?(n: number, html: string, stream: string): void;
}

/** Where a renderer stopped: the page hands it to the browser script, which resumes there. */
export interface LogState {
  lines: number;
  section: LogSection | null;
  open: { stream: string; text: string } | null;
  commands: Record<string, number>;
  stages: string[];
  cursor: string | null;
}

/** A line longer than this without a newline is cut into lines (a progress bar that never ends). */
const MAX_OPEN = 64 * 1024;
// C0 controls other than tab and ESC, and DEL: never shown (ESC is ansi_up's to read).
const CONTROLS = /[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]/g; // eslint-disable-line no-control-regex
const SGR = /\x1b\[[0-9;:]*m/g; // eslint-disable-line no-control-regex

function stageKey(attempt: number, stage: string): string {
  return `${attempt}-${stage.replace(/[^A-Za-z0-9_.-]/g, '_') || '_'}`;
}

/** The anchor of the `$ command` line of an attempt's stage's command (its position, from 0). */
export function commandAnchor(attempt: number, stage: string, index: number): string {
  return `c-${stageKey(attempt, stage)}-${index}`;
}

/** The anchor of the first log section of an attempt's stage. */
export function stageAnchor(attempt: number, stage: string): string {
  return `stage-${stageKey(attempt, stage)}`;
}

function newAnsi(): AnsiUp {
  const ansi = new AnsiUp();
  ansi.use_classes = true;
  ansi.escape_html = true;
  // OSC 8 hyperlinks from a build's output are shown as text, never as links.
  ansi.url_allowlist = {};
  return ansi;
}

/**
 * What a terminal would finally show of one line: the text after the last
 * carriage return (a progress bar's last state) keeping the colours set
 * before it, without control characters.
 */
export function visibleText(text: string): string {
  let line = text.endsWith('\r') ? text.slice(0, -1) : text;
  if (line.includes('\r')) {
    const parts = line.split('\r');
    let last = parts.pop() ?? '';
    while (last === '' && parts.length > 0) last = parts.pop() ?? '';
    line = (parts.join('').match(SGR) ?? []).join('') + last;
  }
  return line.replace(CONTROLS, '');
}

export class LogLines {
  private lines: number;
  private current: LogSection | null;
  private open: { stream: string; text: string } | null;
  private readonly commands: Record<string, number>;
  private readonly stages: Set<string>;
  private cursor: string | null;
  private readonly ansi = newAnsi();

  constructor(
    private readonly sink: LogSink,
    from?: LogState,
  ) {
    this.lines = from?.lines ?? 0;
    this.current = from?.section ?? null;
    this.open = from?.open ?? null;
    this.commands = { ...from?.commands };
    this.stages = new Set(from?.stages);
    this.cursor = from?.cursor ?? null;
  }

  get lineCount(): number {
    return this.lines;
  }

  push(row: LogRow): void {
    this.cursor = `${row.attempt}:${row.seq}`;
    const stage = row.stage ?? '';
    if (!this.current || this.current.attempt !== row.attempt || this.current.stage !== stage) {
      this.endOpen();
      const key = stageKey(row.attempt, stage);
      const first = !this.stages.has(key);
      this.stages.add(key);
      this.current = { index: (this.current?.index ?? 0) + 1, attempt: row.attempt, stage, first };
      this.sink.section(this.current);
    } else if (this.open && this.open.stream !== row.stream) {
      this.endOpen();
    }
    const parts = ((this.open?.text ?? '') + row.text).split('\n');
    const rest = parts.pop()!;
    for (const part of parts) this.emit(part, row.stream);
    this.open = rest ? { stream: row.stream, text: rest } : null;
    if (this.open && this.open.text.length > MAX_OPEN) this.endOpen();
    if (this.open && this.sink.open) {
      this.sink.open(this.lines + 1, newAnsi().ansi_to_html(visibleText(this.open.text)), this.open.stream);
    }
  }

  /** Ends the unfinished last line (the server, when the log it has ends without a newline). */
  endOpen(): void {
    if (!this.open) return;
    const { text, stream } = this.open;
    this.open = null;
    this.emit(text, stream);
  }

  state(): LogState {
    return {
      lines: this.lines,
      section: this.current,
      open: this.open,
      commands: { ...this.commands },
      stages: [...this.stages],
      cursor: this.cursor,
    };
  }

  private emit(text: string, stream: string): void {
    const n = ++this.lines;
    let anchor: string | null = null;
    if (stream === 'system' && text.startsWith('$ ') && this.current) {
      const key = `${this.current.attempt}:${this.current.stage}`;
      const index = this.commands[key] ?? 0;
      this.commands[key] = index + 1;
      anchor = commandAnchor(this.current.attempt, this.current.stage, index);
    }
    this.sink.line(n, this.ansi.ansi_to_html(visibleText(text)), stream, anchor);
  }
}
