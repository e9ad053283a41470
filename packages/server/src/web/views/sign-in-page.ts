import { html } from '../html.js';
import { page, type AssetUrls } from './layout.js';

/**
 * What a browser gets from a page when this server wants a token for reads
 * (`KILN_HTTP_AUTH=read`): a form that keeps one for this browser session
 * and comes back to `next`. It works without JavaScript.
 */
export function signInPage(assets: AssetUrls, next: string, problem?: string): string {
  return page(
    { title: 'Token needed', page: 'error', assets },
    html`<h1>A token is needed to read</h1>
      <p>
        This Kiln server shows builds and packages only with an API token of scope <code>read</code> or more (an
        operator makes one with <code>kiln token create --name NAME --scope read</code>).
      </p>
      ${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
      <form class="token" method="post" action="/session">
        <input type="hidden" name="next" value="${next}" />
        <label>API token <input type="password" name="token" autocomplete="off" spellcheck="false" required /></label>
        <button type="submit">Read with this token</button>
      </form>
      <p class="muted">
        The browser keeps it until it closes, in a cookie only this server reads, and sends it only for reads: rebuild
        and cancel still ask for a token of their own.
      </p>`,
  );
}
