/**
 * The stage wrapper reports each script line's start and end on stdout as a
 * line `<token> <kind> <index> [<exit code>]`. The token is random per build,
 * so ordinary output never looks like a marker; these helpers take the
 * markers out of the stream and pass everything else through.
 */
export type StageMarker =
  | { kind: 'start'; index: number }
  /** `refused`: forks the process limit has refused in this container so far (cgroup pids.events). */
  | { kind: 'end'; index: number; exitCode: number; refused: number }
  /** The wrapper reached the end of the script. */
  | { kind: 'done' };

export type MarkedPiece = { text: string } | { marker: StageMarker };

const MAX_MARKER_LENGTH = 256;
const CODES = { s: 'start', e: 'end', d: 'done' } as const;

export class MarkerSplitter {
  private carry = '';

  constructor(private readonly token: string) {}

  push(text: string): MarkedPiece[] {
    const pieces: MarkedPiece[] = [];
    let buffer = this.carry + text;
    this.carry = '';
    for (;;) {
      const at = buffer.indexOf(this.token);
      if (at < 0) {
        const held = heldPrefix(buffer, this.token);
        addText(pieces, buffer.slice(0, buffer.length - held));
        this.carry = buffer.slice(buffer.length - held);
        return pieces;
      }
      addText(pieces, buffer.slice(0, at));
      const eol = buffer.indexOf('\n', at);
      if (eol < 0) {
        // A real marker line is short; anything longer is output that happens to hold the token.
        if (buffer.length - at > MAX_MARKER_LENGTH) {
          addText(pieces, buffer.slice(at));
        } else {
          this.carry = buffer.slice(at);
        }
        return pieces;
      }
      const marker = parseMarker(buffer.slice(at + this.token.length, eol));
      // A malformed marker line is shown as it is rather than lost.
      pieces.push(marker ? { marker } : { text: buffer.slice(at, eol + 1) });
      buffer = buffer.slice(eol + 1);
    }
  }

  flush(): MarkedPiece[] {
    const rest = this.carry;
    this.carry = '';
    return rest ? [{ text: rest }] : [];
  }
}

export function formatMarkerLine(token: string, marker: StageMarker): string {
  if (marker.kind === 'start') return `${token} s ${marker.index}\n`;
  if (marker.kind === 'end') return `${token} e ${marker.index} ${marker.exitCode} ${marker.refused}\n`;
  return `${token} d\n`;
}

function parseMarker(rest: string): StageMarker | null {
  const [code, index, exit, refused] = rest.trim().split(' ');
  const kind = CODES[code as keyof typeof CODES];
  if (kind === 'done') return { kind };
  const i = Number(index);
  if (!kind || !Number.isInteger(i) || i < 0) return null;
  if (kind === 'start') return { kind, index: i };
  const exitCode = Number(exit);
  const refusedForks = Number(refused ?? 0);
  return Number.isInteger(exitCode) && Number.isInteger(refusedForks)
    ? { kind, index: i, exitCode, refused: refusedForks }
    : null;
}

function addText(pieces: MarkedPiece[], text: string): void {
  if (text) pieces.push({ text });
}

function heldPrefix(text: string, token: string): number {
  for (let n = Math.min(token.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(token.slice(0, n))) return n;
  }
  return 0;
}
