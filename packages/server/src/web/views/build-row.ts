import type { BuildSummaryOut } from '../../schemas/builds.js';
import { formatAgo, formatDuration, formatTime, shortCommit } from '../format.js';
import { html, type Html } from '../html.js';
import { statusBadge } from './status.js';

/** The repository's short name: the last path part without `.git`. */
export function repoName(repo: string): string {
  const last = repo.replace(/\/+$/, '').split(/[/:]/).pop() ?? repo;
  return last.replace(/\.git$/, '') || repo;
}

/** One row of the builds table; the browser script renders new and changed rows with it too. */
export function buildRow(b: BuildSummaryOut, now: number): Html {
  const name = b.package ? `${b.package.name} ${b.package.version}` : (b.branch ?? b.id.slice(0, 8));
  return html`<tr id="b-${b.id}" data-status="${b.status}">
    <td>${statusBadge(b.status)}</td>
    <th scope="row"><a href="/builds/${b.id}">${name}</a></th>
    <td>${b.arch ?? '–'}</td>
    <td class="wrap">
      <span title="${b.repo}">${repoName(b.repo)}</span>${b.branch ? html` <span class="muted">${b.branch}</span>` : ''}
    </td>
    <td><code>${shortCommit(b.commit)}</code></td>
    <td>${b.trigger}</td>
    <td class="num">
      <time datetime="${b.queuedAt}" title="${formatTime(b.queuedAt)}">${formatAgo(b.queuedAt, now)}</time>
    </td>
    <td class="num">
      ${b.status === 'running' && b.startedAt ? formatDuration(now - Date.parse(b.startedAt)) : formatDuration(b.durationMs)}
    </td>
  </tr>`;
}
