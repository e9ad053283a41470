import type { BuildDetailsOut } from '../../schemas/builds.js';
import type { InstalledFileOut } from '../../schemas/common.js';
import { FINISHED, formatDuration } from '../format.js';
import type { LogRow, LogState } from '../log-lines.js';
import { analysisSection } from '../views/build-analysis.js';
import { artifactBox, buildFacts, failureBox, stageStrip, timeline } from '../views/build-parts.js';
import { trustSection } from '../views/build-trust.js';
import { filesSection, fileView } from '../views/files-table.js';
import { setupActions } from './actions.js';
import { getJson, swap } from './api.js';
import { enhanceFiles } from './files.js';
import { LogView, lineAnchors, showTarget } from './log-view.js';

const POLL_MS = 3000;
const FILE_LIMIT = 5000;

/** A build's page: the log goes on live, and the parts above and below it follow the build until it ends. */
export function startBuildPage(): void {
  const root = document.getElementById('build');
  const pane = document.getElementById('log');
  const stateEl = document.getElementById('log-state');
  if (!root || !pane || !stateEl) return;
  const id = root.dataset.id!;
  let live = root.dataset.live === 'true';
  const state = JSON.parse(stateEl.textContent ?? '{}') as LogState;
  const view = new LogView(pane, state, live);
  (window as unknown as { kilnLog?: LogView }).kilnLog = view;
  lineAnchors(pane, view);
  if (showTarget()) view.setFollowing(false);
  else view.toBottom();
  enhanceFiles();
  setupActions(id, () => live);
  if (!live) return;

  let refreshing: Promise<void> | null = null;
  let again = false;
  const refresh = (final: boolean): Promise<void> => {
    if (refreshing) {
      again ||= !final;
      return final ? refreshing.then(() => refresh(true)) : refreshing;
    }
    refreshing = update(id, final)
      .then((ended) => {
        if (ended) live = false;
      })
      .catch(() => undefined)
      .finally(() => {
        refreshing = null;
        if (again && live) {
          again = false;
          void refresh(false);
        }
      });
    return refreshing;
  };
  const timer = setInterval(() => {
    if (!document.hidden && live) void refresh(false);
  }, POLL_MS);

  const url = `/api/v1/builds/${id}/log${state.cursor ? `?after=${encodeURIComponent(state.cursor)}` : ''}`;
  const events = new EventSource(url);
  events.addEventListener('log', (e) => view.enqueue(JSON.parse((e as MessageEvent<string>).data) as LogRow));
  events.addEventListener('stage', () => void refresh(false));
  events.addEventListener('end', () => {
    events.close();
    clearInterval(timer);
    view.writeNow();
    void refresh(true);
  });
}

/** Renders the changing parts again from the API; true once the build has ended and everything is shown. */
async function update(id: string, final: boolean): Promise<boolean> {
  const build = await getJson<BuildDetailsOut>(`/api/v1/builds/${id}`);
  const ended = FINISHED.has(build.status);
  const now = Date.now();
  swap('facts', buildFacts(build, now).text);
  swap('strip', stageStrip(build, now).text);
  const wasOpen = (document.getElementById('timeline') as HTMLDetailsElement | null)?.open ?? false;
  swap('timeline', timeline(build, now, wasOpen).text);
  for (const section of document.querySelectorAll<HTMLElement>('#log details.sect')) {
    if (Number(section.dataset.attempt) !== build.attempt) continue;
    const stage = build.stages.find((s) => s.name === section.dataset.stage);
    const meta = section.querySelector('.smeta');
    if (stage && meta) {
      meta.textContent =
        stage.durationMs === null ? stage.status : `${stage.status} · ${formatDuration(stage.durationMs)}`;
    }
  }
  if (!final && !ended) return false;
  swap('failure', failureBox(build).text);
  swap('artifact', artifactBox(build).text);
  swap('analysis', analysisSection(build).text);
  swap('trust', trustSection(build).text);
  const { files } = await getJson<{ files: InstalledFileOut[] }>(`/api/v1/builds/${id}/files?limit=${FILE_LIMIT}`);
  swap('files', filesSection(files, fileView({}), { total: build.files.count, base: {}, facts: true }).text);
  enhanceFiles();
  const root = document.getElementById('build');
  if (root) root.dataset.live = ended ? 'false' : 'true';
  return ended;
}
