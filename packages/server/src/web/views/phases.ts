import { formatDuration } from '../format.js';
import { html, type Html } from '../html.js';
import type { PhaseRow } from '../web-queries.js';

/** Each phase of the attempt (queue wait, checkout, image, stages, inspection, artifact, record…) as a bar. */
export function phasesBox(phases: readonly PhaseRow[]): Html {
  if (phases.length === 0) return html``;
  const span = Math.max(1, ...phases.map((p) => p.startMs + p.durationMs));
  return html`<details class="timeline" id="phases">
    <summary>Phases <span class="muted">(where ${formatDuration(span)} went)</span></summary>
    <div class="scroll" tabindex="0" role="region" aria-label="Phases">
      <table>
        <thead>
          <tr>
            <th scope="col">Phase</th>
            <th scope="col" class="num">Start</th>
            <th scope="col" class="num">Time</th>
            <th scope="col" class="barcol"><span class="sr">Bar</span></th>
          </tr>
        </thead>
        <tbody>
          ${phases.map((p) => {
            const left = (p.startMs / span) * 100;
            const width = Math.min(Math.max(0.5, (p.durationMs / span) * 100), 100 - left);
            return html`<tr>
              <th scope="row">${p.phase}${p.stage && p.stage !== p.phase ? html` <code>${p.stage}</code>` : ''}</th>
              <td class="num">+${formatDuration(p.startMs)}</td>
              <td class="num">${formatDuration(p.durationMs)}</td>
              <td class="barcol">
                <span class="bar"
                  ><span style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></span
                ></span>
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  </details>`;
}
