/**
 * Replaces the user-info part of every URL in a text (git's error messages
 * quote the remote) so that a token or password never reaches a log line.
 */
export function redactUrls(text: string): string {
  return text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s'"]*@/g, '$1***@');
}
