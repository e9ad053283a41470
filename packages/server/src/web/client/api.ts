/** The server's JSON API, as the page uses it. */
export class ApiProblem extends Error {}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new ApiProblem(await problem(res));
  return (await res.json()) as T;
}

export async function post<T>(url: string, token: string): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new ApiProblem(await problem(res));
  return (await res.json()) as T;
}

async function problem(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `the server answered ${res.status}`;
  } catch {
    return `the server answered ${res.status}`;
  }
}

/** Replaces the element with this id by new markup of the same element (rendered by a shared view). */
export function swap(id: string, markup: string): HTMLElement | null {
  const old = document.getElementById(id);
  if (!old) return null;
  const holder = document.createElement('template');
  holder.innerHTML = markup;
  const next = holder.content.firstElementChild;
  if (!(next instanceof HTMLElement)) return null;
  old.replaceWith(next);
  return next;
}
