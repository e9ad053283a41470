import type { BuildSummaryOut } from '../../schemas/builds.js';
import { buildRow } from '../views/build-row.js';
import { getJson } from './api.js';

const POLL_MS = 2000;

/** The builds table keeps itself current: new builds appear on top, changed rows are drawn again. */
export function startBuildList(): void {
  const table = document.getElementById('builds');
  const body = document.getElementById('builds-body') as HTMLTableSectionElement | null;
  const news = document.getElementById('builds-news');
  if (!table || !body || table.dataset.live !== 'true') return;
  const api = table.dataset.api!;
  const drawn = new Map<string, string>();

  const poll = async () => {
    const { builds } = await getJson<{ builds: BuildSummaryOut[] }>(api);
    const now = Date.now();
    const seen = new Set<string>();
    let added = 0;
    let previous: Element | null = null;
    for (const b of builds) {
      seen.add(b.id);
      const markup = buildRow(b, now).text;
      const data = JSON.stringify(b);
      let row = document.getElementById(`b-${b.id}`);
      const focused = row?.contains(document.activeElement) ?? false;
      if (!row) {
        added++;
        row = rowFrom(markup);
        row.classList.add('new');
      } else if (!focused || drawn.get(b.id) !== data) {
        const fresh = rowFrom(markup);
        row.replaceWith(fresh);
        row = fresh;
      }
      drawn.set(b.id, data);
      if (previous) previous.after(row);
      else body.prepend(row);
      previous = row;
    }
    for (const row of [...body.rows]) if (!seen.has(row.id.slice(2))) row.remove();
    if (added > 0 && news) news.textContent = `${added} new ${added === 1 ? 'build' : 'builds'}`;
  };

  let busy = false;
  setInterval(() => {
    if (busy || document.hidden) return;
    busy = true;
    poll()
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, POLL_MS);
}

function rowFrom(markup: string): HTMLElement {
  const holder = document.createElement('tbody');
  holder.innerHTML = markup;
  return holder.firstElementChild as HTMLElement;
}
