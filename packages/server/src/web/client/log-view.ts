import { LogLines, type LogRow, type LogSection, type LogSink, type LogState } from '../log-lines.js';
import { LINES_PER_BLOCK, lineHtml, sectionOpenHtml } from '../views/log-html.js';

/**
 * The log pane in the browser: lines from the live stream are queued and
 * written once per frame, in blocks of the same size the server renders (so
 * the browser skips the layout of blocks off screen); the pane follows the
 * tail while its bottom is in view, and stops when one scrolls up.
 */
export class LogView implements LogSink {
  private readonly lines: LogLines;
  private section_: HTMLElement | null;
  private block: HTMLElement | null;
  private inBlock: number;
  private buffer: string[] = [];
  private openShown: number | null;
  private queue: LogRow[] = [];
  private frame = 0;
  private following: boolean;
  private readonly followButton: HTMLButtonElement | null;
  private readonly count: HTMLElement | null;
  /** Called after a frame's lines are on the page (the tests' and the benchmark's probe, too). */
  onWritten: (lines: number) => void = () => undefined;

  constructor(
    private readonly pane: HTMLElement,
    state: LogState,
    follow: boolean,
  ) {
    const sections = pane.querySelectorAll<HTMLElement>('details.sect');
    this.section_ = sections[sections.length - 1] ?? null;
    const blocks = this.section_?.querySelectorAll<HTMLElement>(':scope > .c');
    this.block = blocks?.[blocks.length - 1] ?? null;
    this.inBlock = this.block?.childElementCount ?? 0;
    this.openShown = state.open ? state.lines + 1 : null;
    this.lines = new LogLines(this, state);
    this.following = follow;
    this.followButton = document.getElementById('follow') as HTMLButtonElement | null;
    this.count = document.getElementById('log-count');
    this.showCount();
    pane.addEventListener('scroll', () => this.setFollowing(this.atBottom()), { passive: true });
    this.followButton?.addEventListener('click', () => {
      this.setFollowing(!this.following);
      if (this.following) this.toBottom();
    });
    if (this.followButton) this.followButton.disabled = false;
  }

  enqueue(row: LogRow): void {
    this.queue.push(row);
    this.frame ||= requestAnimationFrame(() => this.write());
  }

  /** Writes what is queued now (the stream ended). */
  writeNow(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.write();
  }

  toBottom(): void {
    this.pane.scrollTop = this.pane.scrollHeight;
  }

  setFollowing(on: boolean): void {
    this.following = on;
    this.followButton?.setAttribute('aria-pressed', on ? 'true' : 'false');
  }

  section(section: LogSection): void {
    this.flush();
    this.pane.querySelector(':scope > .empty')?.remove();
    this.pane.insertAdjacentHTML('beforeend', `${sectionOpenHtml(section, '')}</div></details>`);
    this.section_ = this.pane.lastElementChild as HTMLElement;
    this.block = this.section_.querySelector(':scope > .c');
    this.inBlock = 0;
  }

  line(n: number, html: string, stream: string, anchor: string | null): void {
    this.dropOpen(n);
    this.add(lineHtml(n, html, stream, anchor));
  }

  open(n: number, html: string, stream: string): void {
    this.dropOpen(n);
    this.add(lineHtml(n, html, stream, null));
    this.openShown = n;
  }

  private write(): void {
    this.frame = 0;
    const rows = this.queue;
    this.queue = [];
    for (const row of rows) this.lines.push(row);
    this.flush();
    this.showCount();
    if (this.following) this.toBottom();
    this.onWritten(this.lines.lineCount);
  }

  private dropOpen(n: number): void {
    if (this.openShown !== n) return;
    this.flush();
    const shown = document.getElementById(`L${n}`);
    if (shown) {
      shown.remove();
      this.inBlock--;
    }
    this.openShown = null;
  }

  private add(markup: string): void {
    if (!this.block) return;
    if (this.inBlock >= LINES_PER_BLOCK) {
      this.flush();
      this.block.insertAdjacentHTML('afterend', '<div class="c"></div>');
      this.block = this.block.nextElementSibling as HTMLElement;
      this.inBlock = 0;
    }
    this.buffer.push(markup);
    this.inBlock++;
  }

  private flush(): void {
    if (this.buffer.length === 0 || !this.block) return;
    this.block.insertAdjacentHTML('beforeend', this.buffer.join(''));
    this.buffer = [];
  }

  private atBottom(): boolean {
    return this.pane.scrollHeight - this.pane.scrollTop - this.pane.clientHeight < 24;
  }

  private showCount(): void {
    if (this.count) this.count.textContent = `${this.lines.lineCount.toLocaleString('en')} lines`;
  }
}

/** Line anchors: a click on a line's number links to it; a link to a line opens its section and shows it. */
export function lineAnchors(pane: HTMLElement, view: LogView): void {
  pane.addEventListener('click', (event) => {
    const line = (event.target as HTMLElement).closest<HTMLElement>('div[data-n]');
    if (!line || event.target !== line) return;
    const gutter = parseFloat(getComputedStyle(line, '::before').width) || 48;
    if (event.clientX - line.getBoundingClientRect().left > gutter + 8) return;
    view.setFollowing(false);
    history.replaceState(null, '', `#${line.id}`);
    showTarget();
  });
  window.addEventListener('hashchange', () => {
    view.setFollowing(false);
    showTarget();
  });
  const fold = document.getElementById('fold') as HTMLButtonElement | null;
  if (fold) {
    fold.disabled = false;
    fold.addEventListener('click', () => {
      const sections = [...pane.querySelectorAll('details.sect')] as HTMLDetailsElement[];
      const open = !sections.every((s) => !s.open);
      for (const s of sections) s.open = !open;
      fold.textContent = open ? 'Unfold all' : 'Fold all';
    });
  }
}

/** Opens the section holding the linked line and centres it, marking it (`:target` does not follow replaceState). */
export function showTarget(): boolean {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id) return false;
  const target = document.getElementById(id);
  if (!target?.closest('#log')) return false;
  const line = target.closest<HTMLElement>('div[data-n]') ?? target;
  for (let p = line.parentElement; p; p = p.parentElement) if (p instanceof HTMLDetailsElement) p.open = true;
  document.querySelectorAll('#log .hl').forEach((el) => el.classList.remove('hl'));
  line.classList.add('hl');
  line.scrollIntoView({ block: 'center' });
  return true;
}
