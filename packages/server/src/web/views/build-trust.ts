import type { BuildDetailsOut } from '../../schemas/builds.js';
import { html, type Html } from '../html.js';

/** Differing paths a build's page lists at most; the differences page and the API list all. */
const DIFFERING_SHOWN = 50;

const VERDICT_MARKS = { reproducible: '✓', unreproducible: '✗', error: '!' } as const;

/** Whether the build was reproducible (with the differing files), and its SBOM and provenance. */
export function trustSection(b: BuildDetailsOut): Html {
  if (!b.reproducibility && b.documents.length === 0) return html`<section id="trust" hidden></section>`;
  return html`<section id="trust" aria-labelledby="trust-title">
    <h2 id="trust-title">Reproducibility and documents</h2>
    ${reproducibility(b)} ${documents(b)}
  </section>`;
}

function reproducibility(b: BuildDetailsOut): Html {
  const r = b.reproducibility;
  if (!r) {
    return html`<p class="muted" id="reproducibility">
      Not checked for reproducibility (the manifest's <code>verify: [reproducible]</code> asks for it).
    </p>`;
  }
  const badge = html`<span class="badge verdict-${r.status}"
    ><span aria-hidden="true">${VERDICT_MARKS[r.status]}</span> ${r.status}</span
  >`;
  const differencesPage = `/builds/${b.id}/reproducibility`;
  const detail =
    r.status === 'unreproducible'
      ? html`, ${r.differing.length} ${r.differing.length === 1 ? 'file differs' : 'files differ'}`
      : r.status === 'error' && r.error
        ? html`: <span class="error">${r.error}</span>`
        : '';
  return html`<div id="reproducibility">
    <p>Built twice, the second time with a varied environment: ${badge}${detail}</p>
    ${
      r.differing.length > 0
        ? html`<ul class="differing">
              ${r.differing.slice(0, DIFFERING_SHOWN).map(
                (p, i) =>
                  html`<li>
                    <a href="${differencesPage}#d${i}"><code>${p}</code></a>
                  </li>`,
              )}
            </ul>
            ${r.differing.length > DIFFERING_SHOWN ? html`<p class="muted">and ${r.differing.length - DIFFERING_SHOWN} more</p>` : ''}`
        : ''
    }
    <p>
      <a href="${differencesPage}">${r.differing.length > 0 ? 'The difference' : 'The check'}</a>
      <span class="muted"
        >(what was varied${r.differing.length > 0 ? ", diffoscope's text" : ''}; <a href="${r.url}">JSON</a>)</span
      >
    </p>
  </div>`;
}

const DOCUMENT_LABELS = {
  sbom: { name: 'SBOM', about: 'CycloneDX JSON' },
  provenance: { name: 'Provenance', about: 'SLSA v1 in a signed DSSE envelope' },
} as const;

function documents(b: BuildDetailsOut): Html {
  if (b.documents.length === 0) return html`<p class="muted" id="documents">No SBOM or provenance was recorded.</p>`;
  return html`<ul class="documents" id="documents">
    ${b.documents.map(
      (d) =>
        html`<li>
          <a href="${d.url}">${DOCUMENT_LABELS[d.kind].name}</a>
          <span class="muted">${DOCUMENT_LABELS[d.kind].about}${d.signedBy ? ', signed by' : ''}</span>
          ${d.signedBy ? html`<code class="hash">${d.signedBy}</code>` : ''}
          <span class="hash"><span class="muted">sha256</span> <code title="${d.sha256}">${d.sha256}</code></span>
        </li>`,
    )}
  </ul>`;
}
