import { formatSize, type InstalledFile } from '@kiln/shared';
import { escapeCell } from './terminal-text.js';

export { formatSize };

/** Aligned columns; widths ignore colour codes. */
export function table(header: string[], rows: string[][], alignRight: boolean[] = []): string[] {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const pad = (cell: string, i: number, last: boolean): string => {
    const fill = ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(cell)));
    if (alignRight[i]) return fill + cell;
    return last ? cell : cell + fill;
  };
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => pad(cell, i, i === cells.length - 1))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Every installed file: path, kind, size, mode, sha256 and linkage or link target. */
export function fileTable(files: InstalledFile[]): string[] {
  return table(
    ['path', 'kind', 'size', 'mode', 'sha256', 'details'],
    files.map((f) => [
      escapeCell(f.path),
      f.kind,
      f.kind === 'symlink' ? '' : formatSize(f.size),
      f.mode,
      f.sha256 ?? '',
      fileDetails(f),
    ]),
    [false, false, true, false, false, false],
  );
}

function fileDetails(file: InstalledFile): string {
  if (file.kind === 'symlink') return `-> ${escapeCell(file.target ?? '')}`;
  if (!file.linkage) return '';
  return file.needed?.length ? `${file.linkage}: ${escapeCell(file.needed.join(', '))}` : file.linkage;
}
