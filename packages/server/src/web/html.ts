/**
 * HTML from tagged templates, escaped by construction: every interpolated
 * value is escaped unless it is already `Html` (the result of `html` or
 * `raw`). Shared by the server's pages and the browser script, so a row
 * rendered live is the same markup the server sends.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value as string | number | boolean));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup that is trusted as it is (made by this code, or by ansi_up with escaping on). */
export function raw(text: string): Html {
  return new Html(text);
}

/** `?a=1&b=2` from the entries that have a value; '' when none does. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * An opening tag alone, for an element whose content streams after it.
 * (Kept out of `html` templates: a formatter that reads them as HTML would "close" it.)
 */
export function openTag(name: string, attributes: Record<string, string>): Html {
  const attrs = Object.entries(attributes).map(([k, v]) => ` ${k}="${escapeHtml(v)}"`);
  return new Html(`<${name}${attrs.join('')}>`);
}

/** Closing tags for what `openTag` opened. */
export function closeTags(...names: string[]): Html {
  return new Html(names.map((n) => `</${n}>`).join(''));
}
