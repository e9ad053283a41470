import { html, type Html } from '../html.js';

const MARKS: Record<string, string> = {
  queued: '○',
  running: '◔',
  succeeded: '✓',
  failed: '✗',
  errored: '!',
  cancelled: '⊘',
  skipped: '–',
};

/** A build's or stage's status as a badge: a mark and a word, never colour alone. */
export function statusBadge(status: string, extra = ''): Html {
  return html`<span class="badge st-${status}${extra ? ` ${extra}` : ''}"
    ><span aria-hidden="true">${MARKS[status] ?? '?'}</span> ${status}</span
  >`;
}
