import { escapeHtml } from '../html.js';
import { stageAnchor, type LogSection, type LogSink } from '../log-lines.js';

/** Lines per block; every full block is skipped by the browser's layout while off screen (content-visibility). */
export const LINES_PER_BLOCK = 200;

export function sectionTitle(section: { attempt: number; stage: string }): string {
  return `${section.attempt > 1 ? `attempt ${section.attempt} · ` : ''}${section.stage || 'kiln'}`;
}

export function lineHtml(n: number, html: string, stream: string, anchor: string | null): string {
  const cls = stream === 'stderr' ? ' class="e"' : stream === 'system' ? ' class="s"' : '';
  return `<div id="L${n}" data-n="${n}"${cls}>${anchor ? `<span id="${anchor}"></span>` : ''}${html}</div>`;
}

export function sectionOpenHtml(section: LogSection, meta: string): string {
  const id = section.first ? ` id="${stageAnchor(section.attempt, section.stage)}"` : '';
  return (
    `<details class="sect" open id="S${section.index}" data-attempt="${section.attempt}" data-stage="${escapeHtml(section.stage)}">` +
    `<summary${id}><span class="sname">${escapeHtml(sectionTitle(section))}</span> <span class="smeta">${escapeHtml(meta)}</span></summary>` +
    `<div class="c">`
  );
}

/** The server's sink: the log as HTML text, taken in pieces so the page streams while it is read. */
export class LogHtml implements LogSink {
  private parts: string[] = [];
  private size = 0;
  private inBlock = 0;
  private inSection = false;

  /** `meta` says a section's stage status and time, when known. */
  constructor(private readonly meta: (section: LogSection) => string) {}

  section(section: LogSection): void {
    if (this.inSection) this.parts.push('</div></details>');
    this.parts.push(sectionOpenHtml(section, this.meta(section)));
    this.inSection = true;
    this.inBlock = 0;
  }

  line(n: number, html: string, stream: string, anchor: string | null): void {
    if (this.inBlock === LINES_PER_BLOCK) {
      this.parts.push('</div><div class="c">');
      this.inBlock = 0;
    }
    this.inBlock++;
    const line = lineHtml(n, html, stream, anchor);
    this.size += line.length;
    this.parts.push(line);
  }

  /** Characters rendered and not yet taken. */
  get pending(): number {
    return this.size;
  }

  /** What was rendered since the last call. */
  take(): string {
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    return text;
  }

  close(): string {
    const end = this.inSection ? '</div></details>' : '';
    this.inSection = false;
    return this.take() + end;
  }
}
