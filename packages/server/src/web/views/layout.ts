import { closeTags, html, openTag, raw, type Html } from '../html.js';

export interface AssetUrls {
  script: string;
  style: string;
  icon: string;
}

export interface PageOptions {
  title: string;
  /** Which page this is: the browser script starts what it needs by it. */
  page: 'builds' | 'build' | 'packages' | 'package' | 'search' | 'reproducibility' | 'error';
  assets: AssetUrls;
  search?: string;
  current?: 'builds' | 'packages' | 'search';
}

/** The document around a page's content, in two halves so a long page can stream between them. */
export function pageFrame(options: PageOptions): { head: string; tail: string } {
  const nav = (href: string, label: string, key: PageOptions['current']) =>
    html`<a href="${href}" ${options.current === key ? raw(' aria-current="page"') : ''}>${label}</a>`;
  // html, body and main stay open here (opened with openTag: a formatter would "close" them in a template).
  const head = html`${raw('<!doctype html>')}${openTag('html', { lang: 'en' })}
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <title>${options.title} · Kiln</title>
      <link rel="icon" href="${options.assets.icon}" type="image/svg+xml" />
      <link rel="stylesheet" href="${options.assets.style}" />
      <script type="module" src="${options.assets.script}"></script>
    </head>
    ${openTag('body', { 'data-page': options.page })}
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/">Kiln</a>
      <nav aria-label="Main">${nav('/', 'Builds', 'builds')}${nav('/packages', 'Packages', 'packages')}</nav>
      <form class="search" action="/search" method="get" role="search">
        <label for="top-q" class="sr">Search by path, SONAME or sha256</label>
        <input
          id="top-q"
          name="q"
          type="search"
          value="${options.search ?? ''}"
          placeholder="Path, SONAME or sha256"
          autocomplete="off"
        />
        <button type="submit">Search</button>
      </form>
    </header>
    ${openTag('main', { id: 'main' })}`;
  return { head: head.text, tail: `${closeTags('main', 'body', 'html').text}\n` };
}

export function page(options: PageOptions, body: Html): string {
  const { head, tail } = pageFrame(options);
  return head + body.text + tail;
}

export function errorPage(assets: AssetUrls, title: string, message: string): string {
  return page(
    { title, page: 'error', assets },
    html`<h1>${title}</h1>
      <p>${message}</p>
      <p><a href="/">All builds</a></p>`,
  );
}
