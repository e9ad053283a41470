/**
 * The files table, sorted and filtered in place. The server does the same
 * from the links' and the form's parameters when no script runs; the URL
 * keeps the view, so a link to it shows the same.
 */
export function enhanceFiles(): void {
  const section = document.getElementById('files');
  const table = section?.querySelector('table');
  const form = section?.querySelector('form');
  const body = table?.tBodies[0];
  if (!section || !table || !form || !body || section.dataset.enhanced) return;
  section.dataset.enhanced = 'true';
  const params = new URLSearchParams(new FormData(form) as unknown as Record<string, string>);
  let sort = params.get('sort') ?? 'path';
  let order = params.get('order') ?? 'asc';
  const q = form.querySelector<HTMLInputElement>('input[name=q]')!;
  const kind = form.querySelector<HTMLSelectElement>('select[name=kind]')!;
  const count = document.getElementById('files-count');
  const rows = () => [...body.rows];

  const apply = () => {
    const text = q.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows()) {
      const match =
        (!kind.value || row.dataset.kind === kind.value) && (!text || row.textContent!.toLowerCase().includes(text));
      row.hidden = !match;
      if (match) shown++;
    }
    if (count) count.textContent = shown === body.rows.length ? `${shown}` : `${shown} of ${body.rows.length}`;
    const url = new URL(location.href);
    for (const [k, v] of Object.entries({ q: q.value.trim(), kind: kind.value, sort, order })) {
      if (v && !(k === 'sort' && v === 'path') && !(k === 'order' && v === 'asc')) url.searchParams.set(k, v);
      else url.searchParams.delete(k);
    }
    history.replaceState(null, '', url);
  };

  const value = (row: HTMLTableRowElement): string | number => {
    if (sort === 'size') return Number(row.dataset.size);
    if (sort === 'path') return row.cells[0]!.textContent ?? '';
    return row.dataset[sort] ?? '';
  };
  const resort = () => {
    const sign = order === 'desc' ? -1 : 1;
    const sorted = rows().sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sign * (c || (a.cells[0]!.textContent ?? '').localeCompare(b.cells[0]!.textContent ?? ''));
    });
    body.append(...sorted);
    for (const th of table.tHead!.querySelectorAll<HTMLElement>('th[data-sort]')) {
      if (th.dataset.sort === sort) th.setAttribute('aria-sort', order === 'asc' ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
  };

  table.tHead?.addEventListener('click', (event) => {
    const link = (event.target as HTMLElement).closest('a');
    const th = link?.closest<HTMLElement>('th[data-sort]');
    if (!link || !th) return;
    event.preventDefault();
    const next = th.dataset.sort!;
    order = next === sort && order === 'asc' ? 'desc' : 'asc';
    sort = next;
    resort();
    apply();
    link.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  q.addEventListener('input', apply);
  kind.addEventListener('change', apply);
}
