import type { BuildDetailsOut } from '../../schemas/builds.js';
import { formatBytes } from '../format.js';
import { html, query, type Html } from '../html.js';

type Analysis = NonNullable<BuildDetailsOut['analysis']>;
type Changes = NonNullable<Analysis['changes']>;

/** Findings a build's page lists at most (the report has all). */
const FINDINGS_SHOWN = 100;

/** What Kiln found when it recorded the build: provides, unresolved needs, policy findings, what changed. */
export function analysisSection(b: BuildDetailsOut): Html {
  const a = b.analysis;
  if (!a) return html`<section id="analysis" hidden></section>`;
  const soname = (s: string) => html`<a href="/search${query({ q: s })}"><code>${s}</code></a>`;
  return html`<section id="analysis" aria-labelledby="analysis-title">
    <h2 id="analysis-title">Analysis</h2>
    <dl class="analysis">
      <div>
        <dt>Provides</dt>
        <dd>
          ${a.provides.length ? a.provides.map((s, i) => html`${i > 0 ? ', ' : ''}${soname(s)}`) : html`<span class="muted">no SONAME</span>`}
        </dd>
      </div>
      <div>
        <dt>Unresolved needs</dt>
        <dd>
          ${
            a.unresolved.length
              ? html`<ul class="unresolved">
                  ${a.unresolved.map(
                    (u) =>
                      html`<li>
                        <span class="badge warn"><span aria-hidden="true">!</span> ${u.soname}</span>
                        <span class="muted">needed by</span>
                        ${u.files.map((f, i) => html`${i > 0 ? ', ' : ''}<code>${f}</code>`)}
                      </li>`,
                  )}
                </ul>`
              : html`<span class="muted">none: every needed library is provided</span>`
          }
        </dd>
      </div>
      <div>
        <dt>Policy findings</dt>
        <dd>
          ${
            a.findings.length
              ? html`<ul class="findings">
                    ${a.findings.slice(0, FINDINGS_SHOWN).map(
                      (f) =>
                        html`<li>
                          <span class="badge level-${f.level}">${f.level}</span> <span class="muted">${f.rule}</span>
                          ${f.path && !f.message.includes(f.path) ? html`<code>${f.path}</code>` : ''} ${f.message}
                        </li>`,
                    )}
                  </ul>
                  ${a.findings.length > FINDINGS_SHOWN ? html`<p class="muted">and ${a.findings.length - FINDINGS_SHOWN} more</p>` : ''}`
              : html`<span class="muted">none</span>`
          }
        </dd>
      </div>
      <div>
        <dt>What changed</dt>
        <dd>
          ${a.changes ? changesText(a.changes) : html`<span class="muted">no earlier build to compare with</span>`}
        </dd>
      </div>
    </dl>
  </section>`;
}

const BASIS = {
  hotfix: 'the same version built before',
  'previous-version': 'the previous version',
  chosen: 'the chosen build',
};

/** One or two lines: file counts, size, provides, hardening and time, with links to the build and the whole diff. */
function changesText(c: Changes): Html {
  const size = `${c.sizeChange >= 0 ? '+' : '−'}${formatBytes(Math.abs(c.sizeChange))}`;
  const parts: Html[] = [
    html`<span class="added">+${c.added}</span> added, <span class="removed">−${c.removed}</span> removed, ${c.changed}
      changed files, ${size}`,
  ];
  if (c.providesAdded.length || c.providesRemoved.length) {
    parts.push(
      html`${c.abiChange ? html`<strong>ABI change</strong>: ` : ''}provides
      ${c.providesAdded.map((s) => html`+<code>${s}</code> `)}${c.providesRemoved.map((s) => html`−<code>${s}</code> `)}`,
    );
  }
  if (c.hardeningLost)
    parts.push(html`<strong>hardening lost</strong> in ${c.hardeningLost} ${c.hardeningLost === 1 ? 'file' : 'files'}`);
  if (c.slowerCommands) parts.push(html`${c.slowerCommands} ${c.slowerCommands === 1 ? 'command' : 'commands'} slower`);
  return html`<p class="changes">${parts.map((p, i) => html`${i > 0 ? '; ' : ''}${p}`)}</p>
    <p class="muted">
      Against <a href="/builds/${c.against}">${BASIS[c.basis]}</a> · <a href="${c.url}">the whole diff</a>
    </p>`;
}
