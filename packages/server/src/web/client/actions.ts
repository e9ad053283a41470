import { ApiProblem, post } from './api.js';

const KEY = 'kiln-token';

/** Rebuild and cancel, with an API token kept for this browser tab only (sessionStorage). */
export function setupActions(id: string, running: () => boolean): void {
  const form = document.getElementById('token-form') as HTMLFormElement | null;
  const input = document.getElementById('token') as HTMLInputElement | null;
  const forget = document.getElementById('forget') as HTMLButtonElement | null;
  const rebuild = document.getElementById('rebuild') as HTMLButtonElement | null;
  const cancel = document.getElementById('cancel') as HTMLButtonElement | null;
  const message = document.getElementById('action-message');
  if (!form || !input || !forget || !rebuild || !cancel || !message) return;
  const token = () => sessionStorage.getItem(KEY);
  const refresh = () => {
    const has = token() !== null;
    rebuild.disabled = !has;
    cancel.disabled = !has || !running();
    forget.disabled = !has;
    input.placeholder = has ? 'a token is in use' : '';
  };
  refresh();
  setInterval(refresh, 2000);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    sessionStorage.setItem(KEY, value);
    input.value = '';
    message.textContent = 'Token kept for this tab.';
    refresh();
  });
  forget.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    message.textContent = 'Token forgotten.';
    refresh();
  });
  const act = async (what: 'rebuild' | 'cancel') => {
    const secret = token();
    if (!secret) return;
    message.textContent = what === 'rebuild' ? 'Asking for a rebuild…' : 'Asking to cancel…';
    try {
      const answer = await post<{ id: string; status: string }>(`/api/v1/builds/${id}/${what}`, secret);
      if (what === 'rebuild') {
        message.textContent = 'Rebuild queued; opening it.';
        location.assign(`/builds/${answer.id}`);
      } else {
        message.textContent =
          answer.status === 'cancelled' ? 'Cancelled.' : 'Cancel requested: the build stops within seconds.';
      }
    } catch (err) {
      message.textContent = err instanceof ApiProblem ? `Refused: ${err.message}` : 'The server could not be reached.';
    }
  };
  rebuild.addEventListener('click', () => void act('rebuild'));
  cancel.addEventListener('click', () => void act('cancel'));
}
