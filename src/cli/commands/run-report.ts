import { formatDuration, type BuildReport, type InstalledFile } from '@kiln/shared';

/** The end of `kiln run` for a person: stages and commands with times, then every installed file. */
export function formatReport(report: BuildReport): string {
  const out: string[] = [];
  const name = report.package ? `${report.package.name} ${report.package.version}` : 'build';
  out.push(`${name}: ${report.status} in ${formatDuration(report.durationMs)}`);
  if (report.error) out.push(`error: ${report.error}`);
  out.push('');
  const rows: string[][] = [];
  for (const stage of report.stages) {
    const status = stage.cached ? 'cached' : stage.status;
    const time = stage.status === 'skipped' || stage.cached ? '' : formatDuration(stage.durationMs);
    rows.push([stage.name, status, time, stage.error ?? (stage.cached ? stage.image ?? '' : '')]);
    for (const command of stage.commands) {
      const code = command.exitCode === null ? 'killed' : command.exitCode === 0 ? '' : `exit ${command.exitCode}`;
      rows.push([`  ${command.exitCode === 0 ? '\u2713' : '\u2717'} ${command.command}`, code, formatDuration(command.durationMs), '']);
    }
  }
  out.push(...table(['stage', 'status', 'time', ''], rows, [false, false, true, false]));
  if (report.install) {
    const { install } = report;
    out.push('');
    out.push(`installed: ${install.files.length} files, ${formatSize(install.sizeBytes)}`);
    if (install.artifact) out.push(`artifact: ${install.artifact.path}\n  sha256 ${install.artifact.sha256}, ${formatSize(install.artifact.sizeBytes)}`);
    out.push('');
    out.push(
      ...table(
        ['path', 'kind', 'size', 'mode', 'sha256', 'details'],
        install.files.map((f) => [f.path, f.kind, f.kind === 'symlink' ? '' : formatSize(f.size), f.mode, f.sha256 ?? '', details(f)]),
        [false, false, true, false, false, false],
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

function details(file: InstalledFile): string {
  if (file.kind === 'symlink') return `-> ${file.target ?? ''}`;
  if (!file.linkage) return '';
  return file.needed?.length ? `${file.linkage}: ${file.needed.join(', ')}` : file.linkage;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function table(header: string[], rows: string[][], alignRight: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (alignRight[i] ? cell.padStart(widths[i] ?? 0) : i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
