import type { BuildSummaryOut } from '../../schemas/builds.js';
import { html, query, type Html } from '../html.js';
import { buildRow, repoName } from './build-row.js';

export const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'errored', 'cancelled'] as const;

export interface BuildsFilter {
  status?: string;
  package?: string;
  arch?: string;
  repo?: string;
  before?: string;
}

/** The builds, newest first, with filters; the browser script keeps the first page up to date. */
export function buildsPage(
  list: { builds: BuildSummaryOut[]; next: string | null },
  filter: BuildsFilter,
  options: { arches: string[]; repos: string[]; limit: number; now: number },
): Html {
  const { before: _before, ...filters } = filter;
  const select = (
    name: string,
    label: string,
    values: readonly string[],
    current: string | undefined,
    show = (v: string) => v,
  ) =>
    html`<label
      >${label}
      <select name="${name}">
        <option value="">any</option>
        ${values.map((v) => html`<option value="${v}" ${v === current ? ' selected' : ''}>${show(v)}</option>`)}
      </select>
    </label>`;
  const apiQuery = query({ ...filters, limit: options.limit });
  return html`<h1>Builds</h1>
    <form class="filters" method="get" action="/" role="search" aria-label="Filter builds">
      ${select('status', 'Status', STATUSES, filter.status)}
      <label
        >Package <input name="package" value="${filter.package ?? ''}" autocomplete="off" spellcheck="false"
      /></label>
      ${select('arch', 'Arch', options.arches, filter.arch)}
      ${select('repo', 'Repository', options.repos, filter.repo, repoName)}
      <button type="submit">Filter</button>
      ${Object.values(filters).some(Boolean) ? html`<a href="/">Clear</a>` : ''}
    </form>
    <p id="builds-news" class="muted" aria-live="polite"></p>
    <div class="scroll" tabindex="0" role="region" aria-label="Builds">
      <table
        class="builds"
        id="builds"
        data-api="/api/v1/builds${apiQuery}"
        data-live="${filter.before ? 'false' : 'true'}"
      >
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Build</th>
            <th scope="col">Arch</th>
            <th scope="col">Repository</th>
            <th scope="col">Commit</th>
            <th scope="col">Trigger</th>
            <th scope="col" class="num">Queued</th>
            <th scope="col" class="num">Time</th>
          </tr>
        </thead>
        <tbody id="builds-body">
          ${list.builds.map((b) => buildRow(b, options.now))}
        </tbody>
      </table>
    </div>
    ${list.builds.length === 0 ? html`<p class="muted">No builds${Object.values(filters).some(Boolean) ? ' match these filters' : ' yet'}.</p>` : ''}
    <nav class="pages" aria-label="Pages">
      ${filter.before ? html`<a href="/${query(filters)}">Newest</a>` : ''}
      ${list.next ? html`<a href="/${query({ ...filters, before: list.next })}" rel="next">Older builds</a>` : ''}
    </nav>`;
}
