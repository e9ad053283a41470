/**
 * Removes credentials from any text that may quote a URL (git's error
 * messages do): `https://user:token@host` becomes `https://***@host`.
 */
export function redactCredentials(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]+@/g, '$1***@');
}
