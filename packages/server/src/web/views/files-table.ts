import type { InstalledFileOut } from '../../schemas/common.js';
import { formatBytes } from '../format.js';
import { html, query, type Html } from '../html.js';

export const FILE_SORTS = ['path', 'kind', 'size', 'mode', 'linkage'] as const;
export type FileSort = (typeof FILE_SORTS)[number];
export const FILE_KINDS = ['executable', 'shared-library', 'static-library', 'config', 'symlink', 'other'] as const;

/**
 * The ELF facts of a file (package_files, migration 009), as the build page
 * reads them; the API's files may carry them too. Absent or null: not known.
 */
export interface FileElfFacts {
  pie?: boolean | null;
  relro?: 'none' | 'partial' | 'full' | null;
  bindNow?: boolean | null;
  stripped?: boolean | null;
  setuid?: boolean | null;
  runpath?: string | null;
  machine?: string | null;
}
/** A file as the page shows it: the API's file, whose ELF facts may be absent (an older row, a test's fixture). */
export type ShownFile = Omit<InstalledFileOut, keyof FileElfFacts | 'nxStack' | 'setgid' | 'buildId'> &
  FileElfFacts &
  Partial<Pick<InstalledFileOut, 'nxStack' | 'setgid' | 'buildId'>>;

export interface FileView {
  sort: FileSort;
  order: 'asc' | 'desc';
  /** Part of a path, a needed library or a SONAME. */
  q: string;
  kind: string;
}

export function fileView(params: Record<string, string | undefined>): FileView {
  const sort = (FILE_SORTS as readonly string[]).includes(params.sort ?? '') ? (params.sort as FileSort) : 'path';
  return {
    sort,
    order: params.order === 'desc' ? 'desc' : 'asc',
    q: (params.q ?? '').slice(0, 200),
    kind: (FILE_KINDS as readonly string[]).includes(params.kind ?? '') ? params.kind! : '',
  };
}

function sortValue(file: ShownFile, sort: FileSort): string | number {
  switch (sort) {
    case 'size':
      return file.size;
    case 'path':
      return file.path;
    default:
      return file[sort] ?? '';
  }
}

/** The files a view shows, in its order: what the server sends when the browser runs no script. */
export function applyFileView<F extends ShownFile>(files: readonly F[], view: FileView): F[] {
  const q = view.q.toLowerCase();
  const shown = files.filter(
    (f) =>
      (!view.kind || f.kind === view.kind) &&
      (!q ||
        f.path.toLowerCase().includes(q) ||
        (f.soname ?? '').toLowerCase().includes(q) ||
        (f.needed ?? []).some((n) => n.toLowerCase().includes(q))),
  );
  const sign = view.order === 'desc' ? -1 : 1;
  return shown.sort((a, b) => {
    const x = sortValue(a, view.sort);
    const y = sortValue(b, view.sort);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return sign * (c || a.path.localeCompare(b.path));
  });
}

/** Short marks for how an ELF file was linked and hardened; a weak point is marked, never by colour alone. */
export function elfFacts(f: ShownFile): Html {
  const marks: Html[] = [];
  const mark = (text: string, title: string, weak = false) =>
    marks.push(html`<span class="fact${weak ? ' weak' : ''}" title="${title}">${weak ? '⚠ ' : ''}${text}</span>`);
  if (f.machine) mark(f.machine, 'the machine the file is for');
  if (f.kind === 'executable' && typeof f.pie === 'boolean') {
    mark(f.pie ? 'PIE' : 'no PIE', f.pie ? 'position-independent executable' : 'not position-independent', !f.pie);
  }
  if (f.relro) mark(`RELRO ${f.relro}`, 'read-only relocations', f.relro === 'none');
  if (typeof f.bindNow === 'boolean') mark(f.bindNow ? 'BIND_NOW' : 'lazy binding', 'symbol binding', !f.bindNow);
  if (typeof f.stripped === 'boolean') mark(f.stripped ? 'stripped' : 'symbols', 'symbol table removed or kept');
  if (f.setuid) mark('setuid', 'runs as its owner', true);
  if (f.runpath) mark(`RUNPATH ${f.runpath}`, 'library search path written into the file');
  return html`${marks.map((m, i) => html`${i > 0 ? ' ' : ''}${m}`)}`;
}

export function fileRow(f: ShownFile, withFacts = false): Html {
  return html`<tr data-kind="${f.kind}" data-size="${f.size}" data-mode="${f.mode}" data-linkage="${f.linkage ?? ''}">
    <th scope="row" class="path">${f.path}${f.target ? html` <span class="muted">→ ${f.target}</span>` : ''}</th>
    <td>${f.kind}</td>
    <td class="num">${formatBytes(f.size)}</td>
    <td><code>${f.mode}</code></td>
    <td><code class="hash" title="${f.sha256 ?? ''}">${f.sha256 ?? '–'}</code></td>
    <td>${f.linkage ?? ''}</td>
    <td class="wrap">${f.soname ? html`<a href="/search${query({ q: f.soname })}">${f.soname}</a>` : ''}</td>
    <td class="wrap">
      ${(f.needed ?? []).map((n, i) => html`${i > 0 ? ', ' : ''}<a href="/search${query({ q: n })}">${n}</a>`)}
    </td>
    ${withFacts ? html`<td class="elf">${elfFacts(f)}</td>` : ''}
  </tr>`;
}

const LABELS: Record<FileSort, string> = { path: 'Path', kind: 'Kind', size: 'Size', mode: 'Mode', linkage: 'Linkage' };

/**
 * The installed files: sortable by the column headers and filtered by the
 * form, with links that work without a script; the script does the same in
 * place. `base` keeps the page's other parameters (a package's version).
 */
export function filesSection(
  files: readonly ShownFile[],
  view: FileView,
  options: {
    total: number;
    base: Record<string, string>;
    title?: string;
    /** With a column of ELF facts (the build page reads them). */
    facts?: boolean;
  },
): Html {
  const shown = applyFileView(files, view);
  const header = (sort: FileSort) => {
    const active = view.sort === sort;
    const next = active && view.order === 'asc' ? 'desc' : 'asc';
    const href = `${query({ ...options.base, sort, order: next, q: view.q, kind: view.kind })}#files`;
    return html`<th
      scope="col"
      data-sort="${sort}"
      ${active ? html` aria-sort="${view.order === 'asc' ? 'ascending' : 'descending'}"` : ''}
    >
      <a href="${href}">${LABELS[sort]}</a>
    </th>`;
  };
  return html`<section id="files" aria-labelledby="files-title">
    <h2 id="files-title">
      ${options.title ?? 'Installed files'}
      <span class="muted" id="files-count"
        >${shown.length === files.length ? `${files.length}` : `${shown.length} of ${files.length}`}</span
      >
    </h2>
    ${options.total > files.length ? html`<p class="muted">The first ${files.length} of ${options.total} files; the API lists all.</p>` : ''}
    <form class="filters" method="get" action="#files" role="search" aria-label="Filter files">
      ${Object.entries(options.base).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`)}
      <label>Path or library <input type="search" name="q" value="${view.q}" autocomplete="off" /></label>
      <label
        >Kind
        <select name="kind">
          <option value="">any</option>
          ${FILE_KINDS.map((k) => html`<option${k === view.kind ? ' selected' : ''}>${k}</option>`)}
        </select>
      </label>
      <input type="hidden" name="sort" value="${view.sort}" /><input type="hidden" name="order" value="${view.order}" />
      <button type="submit">Filter</button>
    </form>
    <div class="scroll" tabindex="0" role="region" aria-labelledby="files-title">
      <table class="files">
        <thead>
          <tr>
            ${header('path')}${header('kind')}${header('size')}${header('mode')}
            <th scope="col">sha256</th>
            ${header('linkage')}
            <th scope="col">SONAME</th>
            <th scope="col">Needs</th>
            ${options.facts ? html`<th scope="col">ELF facts</th>` : ''}
          </tr>
        </thead>
        <tbody>
          ${shown.map((f) => fileRow(f, options.facts))}
        </tbody>
      </table>
    </div>
    ${files.length === 0 ? html`<p class="muted">No files.</p>` : ''}
  </section>`;
}
