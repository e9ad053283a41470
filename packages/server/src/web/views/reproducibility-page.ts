import type { ReproducibilityCheck } from '@kiln/shared';
import { formatDuration } from '../format.js';
import { html, type Html } from '../html.js';

/** A build's reproducibility check for people: what was varied, which files differ, and diffoscope's text. */
export function reproducibilityBody(buildId: string, title: string, check: ReproducibilityCheck): Html {
  const texts = new Map((check.differences ?? []).map((d) => [d.path, d.diff]));
  return html`<h1>${title} <span class="muted id">reproducibility</span></h1>
    <p>
      <a href="/builds/${buildId}">Back to the build</a> · <a href="/api/v1/builds/${buildId}/reproducibility">JSON</a>
    </p>
    <p>
      Verdict: <strong>${check.status}</strong>${check.error ? html` (<span class="error">${check.error}</span>)` : ''};
      the second build and the comparison took ${formatDuration(check.durationMs)}.
    </p>
    <section aria-labelledby="varied-title">
      <h2 id="varied-title">What the second build varied</h2>
      <dl class="facts">
        ${Object.entries(check.variations ?? {}).map(
          ([k, v]) =>
            html`<div>
              <dt>${k}</dt>
              <dd>${v}</dd>
            </div>`,
        )}
      </dl>
    </section>
    <section aria-labelledby="differing-title">
      <h2 id="differing-title">Differing files <span class="muted">${check.differing.length}</span></h2>
      ${check.differing.length === 0 ? html`<p class="muted">None: both payloads are the same, file by file.</p>` : ''}
      ${check.differing.map(
        (p, i) =>
          html`<section class="difference" id="d${i}" aria-label="${p}">
            <h3><code>${p}</code></h3>
            ${
              texts.has(p)
                ? html`<pre class="diff" tabindex="0">${texts.get(p)!}</pre>`
                : html`<p class="muted">No diffoscope text for this file (only the first few are compared in full).</p>`
            }
          </section>`,
      )}
    </section>`;
}
