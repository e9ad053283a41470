import { analysisText } from './analysis-text.js';
import type { Command } from 'commander';
import { archWaitReasons } from './arch-waiting.js';
import {
  InvalidInputError,
  createPool,
  describeTrust,
  formatDuration,
  loadConfig,
  readTrustSummary,
  redactRepo,
  type Config,
  type Pool,
} from '@kiln/shared';
import { getBuild, listBuilds, resolveBuildId, type BuildDetails, type BuildSummary } from '@kiln/agent';
import { EXIT, type Io } from '../output.js';
import { databaseError } from './database-error.js';
import { fileTable, formatSize, table } from '../format.js';
import { escapeCell, neutralise } from '../terminal-text.js';
import { phaseTable } from './phase-table.js';

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'errored', 'cancelled'] as const;

export function registerStatus(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('status [build-id]')
    .description('show builds from the package database')
    .option('--json', 'print as JSON')
    .option('-n, --limit <n>', 'how many recent builds to list', '20')
    .option('--status <status>', `only builds in this state (${STATUSES.join(', ')})`)
    .addHelpText(
      'after',
      `
Without a build id: the most recent builds. With one (the full id, or its first
characters as the list shows them): that build's stages, commands, error and files.

Examples:
  $ kiln status
  $ kiln status --status failed --limit 5
  $ kiln status 3f2a91c0 --json
`,
    )
    .action(async (id: string | undefined, opts: { json?: boolean; limit: string; status?: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new InvalidInputError(`--limit must be a whole number from 1 to 1000 (got "${opts.limit}")`);
      const status = opts.status as (typeof STATUSES)[number] | undefined;
      if (status !== undefined && !STATUSES.includes(status))
        throw new InvalidInputError(`--status must be one of ${STATUSES.join(', ')}`);
      const config = loadConfig(io.env);
      const pool = createPool(config.KILN_DATABASE_URL, { max: 2, applicationName: 'kiln-status' });
      try {
        done(
          await (id === undefined
            ? showList(pool, io, { limit, status, json: opts.json }, config)
            : showOne(pool, io, id, opts.json, config)),
        );
      } catch (err) {
        throw databaseError(err, config.KILN_DATABASE_URL);
      } finally {
        await pool.end().catch(() => {});
      }
    });
}

/** The queued builds' arches, and why each waits when no agent serves it. */
async function waiting(builds: readonly BuildSummary[], config: Config): Promise<Map<string, string>> {
  const arches = builds.filter((b) => b.status === 'queued' && b.arch).map((b) => b.arch as string);
  return archWaitReasons(config, arches);
}

function waitingOf(b: BuildSummary, reasons: Map<string, string>): string | null {
  return b.status === 'queued' && b.arch ? (reasons.get(b.arch) ?? null) : null;
}

async function showList(
  pool: Pool,
  io: Io,
  opts: { limit: number; status?: BuildSummary['status']; json?: boolean },
  config: Config,
): Promise<number> {
  const builds = await listBuilds(pool, { limit: opts.limit, status: opts.status });
  const reasons = await waiting(builds, config);
  if (opts.json) {
    io.out(`${JSON.stringify(builds.map((b) => ({ ...b, waiting: waitingOf(b, reasons) })))}\n`);
    return EXIT.ok;
  }
  if (builds.length === 0) {
    io.out('no builds yet\n');
    return EXIT.ok;
  }
  const now = Date.now();
  const rows = builds.map((b) => [
    b.id.slice(0, 8),
    escapeCell(b.package?.name ?? b.branch ?? '-'),
    escapeCell(b.package?.version ?? '-'),
    b.arch ?? '-',
    b.stalled
      ? `${paint(b.status, io)} (stalled)`
      : waitingOf(b, reasons)
        ? `${paint(b.status, io)} (no agent serves ${b.arch})`
        : paint(b.status, io),
    String(b.attempt),
    b.durationMs !== null
      ? formatDuration(b.durationMs)
      : b.startedAt
        ? `${formatDuration(now - Date.parse(b.startedAt))}…`
        : '-',
    `${formatAge(now - Date.parse(b.queuedAt))} ago`,
  ]);
  const text = table(['ID', 'PACKAGE', 'VERSION', 'ARCH', 'STATUS', 'ATTEMPT', 'DURATION', 'QUEUED'], rows).join('\n');
  io.out(neutralise(`${text}\n`, io.isTty));
  return EXIT.ok;
}

async function showOne(
  pool: Pool,
  io: Io,
  idOrPrefix: string,
  json: boolean | undefined,
  config: Config,
): Promise<number> {
  const id = await resolveBuildId(pool, idOrPrefix);
  const build = id ? await getBuild(pool, id) : null;
  if (!build) {
    io.err(`kiln: no build ${idOrPrefix} (run "kiln status" to list recent builds)\n`);
    return EXIT.failed;
  }
  const trust = await readTrustSummary(pool, build.id);
  const why = waitingOf(build, await waiting([build], config));
  if (json) {
    io.out(`${JSON.stringify({ ...build, waiting: why, ...(trust ?? {}) })}\n`);
    return EXIT.ok;
  }
  const trustLines = trust ? describeTrust(trust).map((l) => `${escapeCell(l)}\n`) : [];
  const waitLine = why ? `waiting   ${escapeCell(why)}\n` : '';
  io.out(neutralise(describe(build, io) + waitLine + trustLines.join(''), io.isTty));
  return EXIT.ok;
}

export function describe(b: BuildDetails, io: Pick<Io, 'isTty'>): string {
  const lines: string[] = [];
  const pkg = b.package ? `${b.package.name} ${b.package.version}` : '(no package)';
  lines.push(`build     ${b.id}`);
  lines.push(`status    ${paint(b.status, io)} (attempt ${b.attempt}${b.agent ? ` on ${b.agent}` : ''})`);
  lines.push(`package   ${pkg}${b.current ? ' (current build of this version)' : ''}`);
  lines.push(`arch      ${b.arch ?? '(not routed yet: its manifest decides)'}`);
  lines.push(`repo      ${redactRepo(b.repo)}${b.branch ? `  branch ${b.branch}` : ''}`);
  if (b.commit) lines.push(`commit    ${b.commit}`);
  lines.push(`trigger   ${b.trigger}`);
  lines.push(`queued    ${b.queuedAt}`);
  if (b.startedAt) lines.push(`started   ${b.startedAt}`);
  if (b.finishedAt)
    lines.push(`finished  ${b.finishedAt}${b.durationMs !== null ? ` (${formatDuration(b.durationMs)})` : ''}`);
  else if (b.status === 'running' && b.heartbeatAt) {
    const stalled = b.stalled
      ? ': stalled, its agent stopped renewing the lease; the next agent that receives the job takes it over'
      : '';
    lines.push(`heartbeat ${b.heartbeatAt}${stalled}`);
  }
  if (b.error) lines.push(`error     ${b.error.split('\n').join('\n          ')}`);
  if (b.stages.length > 0) {
    lines.push('stages');
    for (const s of b.stages) {
      const exit = s.exitCode === null ? '' : `  exit ${s.exitCode}`;
      const took = s.durationMs === null ? '' : `  ${formatDuration(s.durationMs)}`;
      lines.push(`  ${s.name.padEnd(12)} ${paint(s.status, io)}${exit}${took}${s.image ? `  (${s.image})` : ''}`);
      if (s.error) lines.push(`      ${s.error}`);
      for (const c of s.commands) {
        const cexit = c.exitCode === null ? '' : `  exit ${c.exitCode}`;
        const ctook = c.durationMs === null ? '' : `  ${formatDuration(c.durationMs)}`;
        lines.push(`      $ ${oneLine(c.command)}${cexit}${ctook}`);
      }
    }
  }
  if (b.timings.length > 0) {
    lines.push('timings');
    lines.push(...phaseTable(b.timings).map((l) => `  ${l}`));
  }
  if (b.artifact?.path)
    lines.push(`artifact  ${b.artifact.path}${b.artifact.sha256 ? ` (sha256 ${b.artifact.sha256})` : ''}`);
  if (b.flags.length > 0) {
    lines.push(`flags     ${b.flags.length} found by the content policy`);
    for (const f of b.flags) lines.push(`  ${escapeCell(f.path)}  ${f.rule}: ${f.message}`);
  }
  if (b.analysis) lines.push(...analysisText(b.id, b.analysis));
  if (b.files.count > 0) {
    lines.push(`files     ${b.files.count} files, ${formatSize(b.files.sizeBytes)}`);
    lines.push(...fileTable(b.files.list).map((l) => `  ${l}`));
  }
  lines.push(`logs      kiln logs ${b.id}${b.status === 'running' || b.status === 'queued' ? ' --follow' : ''}`);
  return `${lines.join('\n')}\n`;
}

function oneLine(command: string): string {
  const first = command.split('\n')[0] ?? '';
  const short = first.length > 100 ? `${first.slice(0, 99)}…` : first;
  return escapeCell(command.includes('\n') ? `${short} …` : short);
}

const COLOURS: Record<string, string> = {
  succeeded: '32',
  failed: '31',
  errored: '31',
  running: '33',
  queued: '36',
  cancelled: '35',
};

function paint(status: string, io: Pick<Io, 'isTty'>): string {
  const colour = COLOURS[status];
  return io.isTty && colour ? `\u001b[${colour}m${status}\u001b[0m` : status;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
