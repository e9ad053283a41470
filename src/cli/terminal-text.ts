/**
 * Text that came from a build (its output, file names, commands, errors) may
 * hold escape sequences that set a terminal's title, clear it, or write the
 * clipboard (OSC 52). Before it reaches a terminal, every control character
 * is shown as caret notation (ESC as `^[`), except line breaks and tabs, and,
 * on a terminal, colour (SGR) sequences.
 */
// eslint-disable-next-line no-control-regex
const SGR = /^\u001b\[[0-9;:]*m$/;
// CSI and OSC sequences whole (so a kept colour is one match), then any single control character.
// eslint-disable-next-line no-control-regex
const CONTROL = /\u001b\[[0-?]*[ -/]*[@-~]|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function neutralise(text: string, keepColour: boolean): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, (match) => (keepColour && SGR.test(match) ? match : [...match].map(caret).join('')));
}

/** One table cell or one-line field: also line breaks and tabs shown as `\n` and `\t`, so rows stay rows. */
export function escapeCell(text: string): string {
  return neutralise(
    text.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t'),
    false,
  );
}

function caret(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
  if (code === 0x7f) return '^?';
  if (code >= 0x80 && code <= 0x9f) return `\\x${code.toString(16)}`;
  return char;
}
