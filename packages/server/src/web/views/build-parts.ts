import type { BuildDetailsOut } from '../../schemas/builds.js';
import { formatBytes, formatDuration, formatTime, shortCommit } from '../format.js';
import { html, type Html } from '../html.js';
import { commandAnchor, stageAnchor } from '../log-lines.js';
import { repoName } from './build-row.js';
import { statusBadge } from './status.js';

/**
 * The parts of a build's page that change while it runs. The server renders
 * them into the page; the browser script renders them again from the API's
 * answer and swaps them in by id, so both always show the same markup.
 */

type Stage = BuildDetailsOut['stages'][number];

/** Status, package, version, arch, commit, trigger, agent, attempt and the timings of each phase. */
export function buildFacts(b: BuildDetailsOut, now: number): Html {
  const waited = b.startedAt ? Date.parse(b.startedAt) - Date.parse(b.queuedAt) : null;
  const ran = b.durationMs ?? (b.startedAt && b.status === 'running' ? now - Date.parse(b.startedAt) : null);
  const fact = (term: string, value: Html | string, title?: string) =>
    html`<div><dt>${term}</dt><dd${title ? html` title="${title}"` : ''}>${value}</dd></div>`;
  return html`<dl class="facts" id="facts" data-status="${b.status}">
    ${fact('Status', html`${statusBadge(b.status)}${b.cancelRequested && b.status === 'running' ? ' cancelling' : ''}`)}
    ${fact('Package', b.package ? html`<a href="/packages/${encodeURIComponent(b.package.name)}">${b.package.name}</a>` : '–')}
    ${fact('Version', b.package?.version ?? '–')} ${fact('Arch', b.arch ?? 'not routed yet')}
    ${fact('Repository', repoName(b.repo), b.repo)} ${fact('Branch', b.branch ?? '–', b.branch ?? undefined)}
    ${fact('Commit', html`<code>${shortCommit(b.commit)}</code>`, b.commit ?? undefined)}
    ${fact('Trigger', b.rebuildOf ? html`<a href="/builds/${b.rebuildOf}">${b.trigger}</a>` : b.trigger)}
    ${fact('Agent', b.agent ?? '–', b.agent ?? undefined)} ${fact('Attempt', String(b.attempt))}
    ${fact('Queued', formatTime(b.queuedAt))} ${fact('Waited', formatDuration(waited))}
    ${fact('Built in', formatDuration(ran))}
    ${fact('Files', b.files.count ? `${b.files.count} · ${formatBytes(b.files.sizeBytes)}` : '–')}
  </dl>`;
}

/** The command that failed, where to see it in the log, or what went wrong; empty for other builds. */
export function failureBox(b: BuildDetailsOut): Html {
  if (b.status !== 'failed' && b.status !== 'errored') return html`<div id="failure" hidden></div>`;
  const f = b.failure;
  const stage = f?.stage ? b.stages.find((s) => s.name === f.stage) : undefined;
  const index = stage ? failedCommandIndex(stage, f?.command ?? null) : -1;
  const link =
    f?.stage && index >= 0
      ? html` <a class="jump" href="#${commandAnchor(b.attempt, f.stage, index)}">Show in the log</a>`
      : '';
  return html`<section id="failure" class="failure" aria-labelledby="failure-title">
    <h2 id="failure-title">
      ${b.status === 'failed' ? 'Failed' : 'Errored'}${f?.stage ? html` in stage <code>${f.stage}</code>` : ''}
    </h2>
    ${
      f?.command
        ? html`<p class="failed-command">
            <code>${f.command}</code> exited with code <strong>${f.exitCode ?? '?'}</strong>${link}
          </p>`
        : ''
    }
    ${b.error ? html`<p class="error">${b.error}</p>` : ''}
  </section>`;
}

function failedCommandIndex(stage: Stage, command: string | null): number {
  for (let i = stage.commands.length - 1; i >= 0; i--) {
    const c = stage.commands[i]!;
    if ((command === null || c.command === command) && c.exitCode !== 0) return c.position;
  }
  return stage.commands.length > 0 ? stage.commands[stage.commands.length - 1]!.position : -1;
}

/** One line of stages, each as wide as it took: always the same height, so nothing below it moves. */
export function stageStrip(b: BuildDetailsOut, now: number): Html {
  const stages = b.stages.map((s) => ({ s, ms: stageMs(s, now) }));
  const total = stages.reduce((sum, x) => sum + x.ms, 0) || 1;
  return html`<nav class="strip" id="strip" aria-label="Stages">
    ${
      stages.length === 0
        ? html`<p class="muted">${b.status === 'queued' ? 'Waiting for an agent' : 'No stage ran'}</p>`
        : html`<ol>
            ${stages.map(
              ({ s, ms }) =>
                html`<li class="st-${s.status}" style="flex-grow:${Math.max(1, Math.round((ms / total) * 100))}">
                  <a href="#${stageAnchor(b.attempt, s.name)}" title="${s.name}: ${s.status}, ${formatDuration(ms)}"
                    ><span class="name">${s.name}</span> <span class="time">${formatDuration(ms)}</span></a
                  >
                </li>`,
            )}
          </ol>`
    }
  </nav>`;
}

function stageMs(s: Stage, now: number): number {
  if (s.durationMs !== null) return s.durationMs;
  return s.startedAt ? Math.max(0, now - Date.parse(s.startedAt)) : 0;
}

/** Every stage and command with its exit code, start (from the build's start) and time, as bars. */
export function timeline(b: BuildDetailsOut, now: number, open: boolean): Html {
  const origin = Date.parse(b.startedAt ?? b.queuedAt);
  const end = Math.max(
    origin + 1,
    ...b.stages.map((s) => (s.startedAt ? Date.parse(s.startedAt) + stageMs(s, now) : origin)),
  );
  const span = end - origin;
  const bar = (startedAt: string | null, ms: number) => {
    const left = startedAt ? ((Date.parse(startedAt) - origin) / span) * 100 : 0;
    const width = Math.max(0.5, (ms / span) * 100);
    return html`<span class="bar"
      ><span style="margin-left:${left.toFixed(2)}%;width:${Math.min(width, 100 - left).toFixed(2)}%"></span
    ></span>`;
  };
  const offset = (startedAt: string | null) => (startedAt ? `+${formatDuration(Date.parse(startedAt) - origin)}` : '–');
  const commands = b.stages.reduce((n, s) => n + s.commands.length, 0);
  return html`<details class="timeline" id="timeline" ${open ? ' open' : ''}>
    <summary>Stages and commands <span class="muted">(${b.stages.length} stages, ${commands} commands)</span></summary>
    <div class="scroll" tabindex="0" role="region" aria-label="Stages and commands">
      <table>
        <thead>
          <tr>
            <th scope="col">Stage or command</th>
            <th scope="col">Exit</th>
            <th scope="col" class="num">Start</th>
            <th scope="col" class="num">Time</th>
            <th scope="col" class="barcol"><span class="sr">Bar</span></th>
          </tr>
        </thead>
        ${b.stages.map(
          (s) =>
            html`<tbody>
              <tr class="stage-row">
                <th scope="row"><a href="#${stageAnchor(b.attempt, s.name)}">${s.name}</a> ${statusBadge(s.status)}</th>
                <td>${s.exitCode ?? ''}</td>
                <td class="num">${offset(s.startedAt)}</td>
                <td class="num">${formatDuration(stageMs(s, now))}</td>
                <td class="barcol">${bar(s.startedAt, stageMs(s, now))}</td>
              </tr>
              ${s.commands.map(
                (c) =>
                  html`<tr class="cmd${c.exitCode !== null && c.exitCode !== 0 ? ' bad' : ''}">
                    <td class="wrap">
                      <a href="#${commandAnchor(b.attempt, s.name, c.position)}"><code>${c.command}</code></a>
                    </td>
                    <td>${c.exitCode ?? ''}</td>
                    <td class="num">${offset(c.startedAt)}</td>
                    <td class="num">${formatDuration(c.durationMs)}</td>
                    <td class="barcol">${bar(c.startedAt, c.durationMs ?? 0)}</td>
                  </tr>`,
              )}
            </tbody>`,
        )}
      </table>
    </div>
  </details>`;
}

/** The package artifact of a build that produced the current package version. */
export function artifactBox(b: BuildDetailsOut): Html {
  if (!b.artifact) return html`<section id="artifact" hidden></section>`;
  const file = decodeURIComponent(b.artifact.url.split('/').pop() ?? '');
  return html`<section id="artifact" aria-labelledby="artifact-title">
    <h2 id="artifact-title">Artifact</h2>
    <p><a href="${b.artifact.url}" download>${file}</a></p>
    <p class="hash"><span class="muted">sha256</span> <code>${b.artifact.sha256 ?? '–'}</code></p>
  </section>`;
}
