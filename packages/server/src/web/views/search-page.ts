import type { SearchHitOut } from '../../schemas/packages.js';
import { formatBytes } from '../format.js';
import { html, type Html } from '../html.js';

export type SearchKind = 'path' | 'sha256' | 'soname';

/** What one search box means: an absolute path, a sha256, or else a library's SONAME. */
export function searchKind(q: string): SearchKind {
  if (q.startsWith('/')) return 'path';
  if (/^[0-9a-fA-F]{64}$/.test(q)) return 'sha256';
  return 'soname';
}

function hitsTable(caption: string, hits: readonly SearchHitOut[]): Html {
  return html`<div class="scroll" tabindex="0" role="region" aria-label="${caption}">
    <table>
      <caption>
        ${caption}
      </caption>
      <thead>
        <tr>
          <th scope="col">Package</th>
          <th scope="col">File</th>
          <th scope="col">Kind</th>
          <th scope="col" class="num">Size</th>
          <th scope="col">sha256</th>
        </tr>
      </thead>
      <tbody>
        ${hits.map(
          (h) =>
            html`<tr>
              <th scope="row">
                <a href="/packages/${encodeURIComponent(h.package.name)}">${h.package.name}</a> ${h.package.version}
                <span class="muted">${h.package.arch}</span>
              </th>
              <td class="path"><a href="/builds/${h.buildId}#files">${h.file.path}</a></td>
              <td>${h.file.kind}</td>
              <td class="num">${formatBytes(h.file.size)}</td>
              <td><code class="hash" title="${h.file.sha256 ?? ''}">${h.file.sha256 ?? '–'}</code></td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function searchPage(
  q: string,
  result: { kind: SearchKind; hits: SearchHitOut[]; neededBy: SearchHitOut[]; packageNamed: boolean } | null,
): Html {
  const form = html`<form class="filters big" action="/search" method="get" role="search" aria-label="Search files">
    <label
      >Path, SONAME or sha256 <input name="q" type="search" value="${q}" autocomplete="off" spellcheck="false"
    /></label>
    <button type="submit">Search</button>
  </form>`;
  if (!result) {
    return html`<h1>Search</h1>
      ${form}
      <p class="muted">
        An installed path (<code>/usr/lib/libz.so.1</code>), a library's SONAME (<code>libz.so.1</code>) or a file's
        sha256.
      </p>`;
  }
  const what = { path: 'installed at', sha256: 'with sha256', soname: 'providing' }[result.kind];
  return html`<h1>Search</h1>
    ${form} ${result.packageNamed ? html`<p>Package <a href="/packages/${encodeURIComponent(q)}">${q}</a></p>` : ''}
    <section aria-labelledby="hits-title">
      <h2 id="hits-title">
        ${result.hits.length} ${result.hits.length === 1 ? 'file' : 'files'} ${what} <code>${q}</code>
      </h2>
      ${result.hits.length ? hitsTable(`Files ${what} ${q}`, result.hits) : html`<p class="muted">No current package has one.</p>`}
    </section>
    ${
      result.kind === 'soname'
        ? html`<section aria-labelledby="needs-title">
            <h2 id="needs-title">
              ${result.neededBy.length} ${result.neededBy.length === 1 ? 'file needs' : 'files need'} <code>${q}</code>
            </h2>
            ${result.neededBy.length ? hitsTable(`Files that need ${q}`, result.neededBy) : ''}
          </section>`
        : ''
    }`;
}
