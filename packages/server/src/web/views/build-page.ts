import type { BuildDetailsOut } from '../../schemas/builds.js';
import { formatDuration, FINISHED } from '../format.js';
import { closeTags, html, openTag, raw, type Html } from '../html.js';
import type { LogSection, LogState } from '../log-lines.js';
import { artifactBox, buildFacts, failureBox, stageStrip, timeline } from './build-parts.js';
import type { PhaseRow } from '../web-queries.js';
import { analysisSection } from './build-analysis.js';
import { trustSection } from './build-trust.js';
import { filesSection, type FileView, type ShownFile } from './files-table.js';
import { phasesBox } from './phases.js';

export function buildTitle(b: BuildDetailsOut): string {
  return b.package ? `${b.package.name} ${b.package.version}` : (b.branch ?? `build ${b.id.slice(0, 8)}`);
}

/** What a log section's header says about its stage: status and time, once the agent recorded them. */
export function sectionMeta(b: BuildDetailsOut, section: LogSection): string {
  if (section.attempt !== b.attempt) return '';
  const stage = b.stages.find((s) => s.name === section.stage);
  if (!stage) return '';
  return stage.durationMs === null ? stage.status : `${stage.status} · ${formatDuration(stage.durationMs)}`;
}

/** Everything above the log's lines: the page streams the lines after it. */
export function buildPageTop(b: BuildDetailsOut, phases: readonly PhaseRow[], now: number): Html {
  const live = !FINISHED.has(b.status);
  // The article, the log section and the log pane stay open: the lines and buildPageBottom follow.
  return html`${openTag('article', { id: 'build', 'data-id': b.id, 'data-live': live ? 'true' : 'false' })}
    <h1>${buildTitle(b)} <span class="muted id">build ${b.id}</span></h1>
    ${failureBox(b)} ${buildFacts(b, now)} ${stageStrip(b, now)} ${timeline(b, now, !live)} ${phasesBox(phases)}
    <details class="actions" id="actions">
      <summary>Rebuild or cancel</summary>
      <div class="actions-body">
        <p class="muted nojs">Needs JavaScript, and an API token (<code>kiln token create</code>).</p>
        <form id="token-form" class="token">
          <label>API token <input type="password" id="token" autocomplete="off" spellcheck="false" /></label>
          <button type="submit">Use token</button>
          <button type="button" id="forget" disabled>Forget token</button>
        </form>
        <p>
          <button type="button" id="rebuild" disabled>Rebuild</button>
          <button type="button" id="cancel" disabled>Cancel build</button>
        </p>
        <p id="action-message" role="status"></p>
      </div>
    </details>
    ${openTag('section', { id: 'log-section', 'aria-labelledby': 'log-title' })}
    <div class="log-bar">
      <h2 id="log-title">Log</h2>
      <span class="muted" id="log-count"></span>
      <span class="tools">
        <a href="/api/v1/builds/${b.id}/log">Raw</a>
        <button type="button" id="fold" disabled>Fold all</button>
        <button type="button" id="follow" aria-pressed="${live ? 'true' : 'false'}" disabled>Follow</button>
      </span>
    </div>
    ${openTag('div', { id: 'log', class: `log${live ? ' live' : ''}`, tabindex: '0', role: 'region', 'aria-label': 'Build log' })}`;
}

/** The rest after the lines: where the log stopped (for the live script), the analysis, reproducibility, files and artifact. */
export function buildPageBottom(
  b: BuildDetailsOut,
  state: LogState,
  files: readonly ShownFile[],
  view: FileView,
): Html {
  // `<` escaped so that no log text can end the script element.
  const json = JSON.stringify(state).replace(/</g, '\\u003c');
  return html`${state.lines === 0 && state.open === null ? raw('<p class="muted empty">No output yet.</p>') : ''}${closeTags('div')}
    <script type="application/json" id="log-state">
      ${raw(json)}
    </script>
    ${closeTags('section')} ${analysisSection(b)} ${trustSection(b)}
    ${FINISHED.has(b.status) ? filesSection(files, view, { total: b.files.count, base: {}, facts: true }) : html`<section id="files" hidden></section>`}
    ${artifactBox(b)} ${closeTags('article')}`;
}
