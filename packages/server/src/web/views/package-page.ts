import type { BuildSummaryOut } from '../../schemas/builds.js';
import type { InstalledFileOut } from '../../schemas/common.js';
import { formatBytes, formatDuration, formatTime } from '../format.js';
import { html, query, type Html } from '../html.js';
import type { VersionHistory } from '../web-queries.js';
import { buildRow } from './build-row.js';
import { barChart } from './chart.js';
import { filesSection, type FileView } from './files-table.js';
import { statusBadge } from './status.js';

export interface PackagePageData {
  name: string;
  arch: string;
  /** Oldest first. */
  history: VersionHistory[];
  version: string;
  files: InstalledFileOut[];
  provides: string[];
  needs: Array<{ soname: string; from: string[] }>;
  neededBy: Array<{ name: string; version: string; needs: string[] }>;
  recent: BuildSummaryOut[];
}

/** A package: versions × architectures with their current builds, a chart of size and build time, and one version's files and linkage. */
export function packagePage(d: PackagePageData, view: FileView, now: number): Html {
  const newestFirst = [...d.history].reverse();
  const pkgUrl = `/packages/${encodeURIComponent(d.name)}`;
  return html`<article id="package">
    <h1>${d.name} <span class="muted">package</span></h1>
    <div class="two">
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <div class="scroll" tabindex="0" role="region" aria-labelledby="versions-title">
          <table class="versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">${d.arch}</th>
                <th scope="col" class="num">Installed</th>
                <th scope="col" class="num">Files</th>
                <th scope="col" class="num">Build time</th>
                <th scope="col">Built</th>
              </tr>
            </thead>
            <tbody>
              ${newestFirst.map(
                (v) => html`<tr${v.version === d.version ? html` class="selected"` : ''}>
                  <th scope="row"><a href="${pkgUrl}${query({ version: v.version })}#files"${v.version === d.version ? html` aria-current="true"` : ''}>${v.version}</a></th>
                  <td><a href="/builds/${v.buildId}" aria-label="build of ${d.name} ${v.version} for ${d.arch}: ${v.status}">${statusBadge(v.status)}</a></td>
                  <td class="num">${formatBytes(v.installedSize)}</td>
                  <td class="num">${v.fileCount}</td>
                  <td class="num">${formatDuration(v.durationMs)}</td>
                  <td>${formatTime(v.updatedAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
      </section>
      <section class="charts" aria-labelledby="trend-title">
        <h2 id="trend-title">Over versions</h2>
        ${barChart(
          'Installed size',
          d.history.map((v) => ({ label: v.version, value: v.installedSize, text: formatBytes(v.installedSize) })),
        )}
        ${barChart(
          'Build time',
          d.history.map((v) => ({ label: v.version, value: v.durationMs, text: formatDuration(v.durationMs) })),
        )}
      </section>
    </div>
    <h2 class="version-title">${d.name} ${d.version} <span class="muted">${d.arch}</span></h2>
    <div class="three">
      <section aria-labelledby="provides-title">
        <h3 id="provides-title">Provides</h3>
        ${
          d.provides.length
            ? html`<ul class="plain">
                ${d.provides.map(
                  (s) =>
                    html`<li>
                      <a href="/search${query({ q: s })}"><code>${s}</code></a>
                    </li>`,
                )}
              </ul>`
            : html`<p class="muted">No shared library.</p>`
        }
      </section>
      <section aria-labelledby="needs-title">
        <h3 id="needs-title">Needs</h3>
        ${
          d.needs.length
            ? html`<ul class="plain">
                ${d.needs.map(
                  (n) =>
                    html`<li>
                      <a href="/search${query({ q: n.soname })}"><code>${n.soname}</code></a
                      >${
                        n.from.length
                          ? html` <span class="muted">from</span>
                              ${n.from.map((p, i) => html`${i ? ', ' : ''}<a href="/packages/${encodeURIComponent(p)}">${p}</a>`)}`
                          : html` <span class="muted">(not a Kiln package)</span>`
                      }
                    </li>`,
                )}
              </ul>`
            : html`<p class="muted">Nothing from other packages.</p>`
        }
      </section>
      <section aria-labelledby="neededby-title">
        <h3 id="neededby-title">Needed by</h3>
        ${
          d.neededBy.length
            ? html`<ul class="plain">
                ${d.neededBy.map(
                  (p) =>
                    html`<li>
                      <a href="/packages/${encodeURIComponent(p.name)}">${p.name}</a> ${p.version}
                      <span class="muted">(${p.needs.join(', ')})</span>
                    </li>`,
                )}
              </ul>`
            : html`<p class="muted">No package needs it.</p>`
        }
      </section>
    </div>
    ${filesSection(d.files, view, { total: d.files.length, base: { version: d.version }, title: `Files of ${d.version}` })}
    <section aria-labelledby="recent-title">
      <h2 id="recent-title">Recent builds</h2>
      <div class="scroll" tabindex="0" role="region" aria-labelledby="recent-title">
        <table class="builds">
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
          <tbody>
            ${d.recent.map((b) => buildRow(b, now))}
          </tbody>
        </table>
      </div>
      <p><a href="/${query({ package: d.name })}">All builds of ${d.name}</a></p>
    </section>
  </article>`;
}

export function packagesPage(
  list: { packages: Array<{ name: string; latest: string; versions: number; updatedAt: string }>; next: string | null },
  after: string | undefined,
): Html {
  return html`<h1>Packages</h1>
    <div class="scroll" tabindex="0" role="region" aria-label="Packages">
      <table>
        <thead>
          <tr>
            <th scope="col">Package</th>
            <th scope="col">Newest version</th>
            <th scope="col" class="num">Versions</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          ${list.packages.map(
            (p) =>
              html`<tr>
                <th scope="row"><a href="/packages/${encodeURIComponent(p.name)}">${p.name}</a></th>
                <td>${p.latest}</td>
                <td class="num">${p.versions}</td>
                <td>${formatTime(p.updatedAt)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${list.packages.length === 0 ? html`<p class="muted">No packages yet.</p>` : ''}
    <nav class="pages" aria-label="Pages">
      ${after ? html`<a href="/packages">First</a>` : ''}
      ${list.next ? html`<a href="/packages${query({ after: list.next })}" rel="next">Next</a>` : ''}
    </nav>`;
}
