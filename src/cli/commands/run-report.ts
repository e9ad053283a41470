import { formatDuration, type BuildReport } from '@kiln/shared';
import { fileTable, formatSize, table } from '../format.js';
import { escapeCell } from '../terminal-text.js';
import { phaseTable } from './phase-table.js';

/** The end of `kiln run` for a person: stages and commands with times, then every installed file. */
export function formatReport(report: BuildReport): string {
  const out: string[] = [];
  const name = report.package ? `${report.package.name} ${report.package.version}` : 'build';
  // The host's arch goes without saying; another one is said, with how it ran.
  const arch = report.emulated ? ` for ${report.arch} (emulated)` : '';
  out.push(`${name}${arch}: ${report.status} in ${formatDuration(report.durationMs)}`);
  if (report.error) out.push(`error: ${report.error}`);
  out.push('');
  const rows: string[][] = [];
  for (const stage of report.stages) {
    const status = stage.cached ? 'cached' : stage.status;
    const time = stage.status === 'skipped' || stage.cached ? '' : formatDuration(stage.durationMs);
    rows.push([stage.name, status, time, stage.error ?? (stage.cached ? (stage.image ?? '') : '')]);
    for (const command of stage.commands) {
      const code = command.exitCode === null ? 'killed' : command.exitCode === 0 ? '' : `exit ${command.exitCode}`;
      rows.push([
        `  ${command.exitCode === 0 ? '\u2713' : '\u2717'} ${escapeCell(command.command)}`,
        code,
        formatDuration(command.durationMs),
        '',
      ]);
    }
  }
  out.push(...table(['stage', 'status', 'time', ''], rows, [false, false, true, false]));
  if (report.timings?.length) {
    out.push('');
    out.push('where the time went');
    out.push(...phaseTable(report.timings).map((l) => `  ${l}`));
  }
  if (report.flags?.length) {
    out.push('');
    out.push(`flags: ${report.flags.length} (content policy, machine check)`);
    for (const f of report.flags) out.push(`  ${escapeCell(f.path)}  ${f.rule}: ${f.message}`);
  }
  if (report.install) {
    const { install } = report;
    out.push('');
    out.push(`installed: ${install.files.length} files, ${formatSize(install.sizeBytes)}`);
    if (install.artifact)
      out.push(
        `artifact: ${install.artifact.path}\n  sha256 ${install.artifact.sha256}, ${formatSize(install.artifact.sizeBytes)}`,
      );
    out.push('');
    out.push(...fileTable(install.files));
  }
  return `${out.join('\n')}\n`;
}
