/**
 * Replaces secret values in streamed output. A secret may arrive split across
 * two chunks, so each stream holds back the tail that could still become one.
 */
export const MASK = '***';

/** Shorter values would mask ordinary words; they are reported, not masked. */
export const MIN_SECRET_LENGTH = 4;

export class SecretMasker {
  private readonly secrets: string[];
  private readonly pattern: RegExp | null;

  constructor(secrets: Iterable<string>) {
    const unique = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH);
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = unique.sort((a, b) => b.length - a.length);
    this.pattern = this.secrets.length ? new RegExp(this.secrets.map(escapeRegExp).join('|'), 'g') : null;
  }

  /** Masks a complete text (a command line, an error message). */
  mask(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }

  /** One per output stream: holds the carry-over between that stream's chunks. */
  stream(): MaskingStream {
    return new MaskingStream(this);
  }

  /** Length of the longest suffix of `text` that begins some secret (and is shorter than it). */
  heldTail(text: string): number {
    let held = 0;
    for (const secret of this.secrets) {
      const max = Math.min(secret.length - 1, text.length);
      for (let n = max; n > held; n--) {
        if (text.endsWith(secret.slice(0, n))) {
          held = n;
          break;
        }
      }
    }
    return held;
  }
}

export class MaskingStream {
  private carry = '';

  constructor(private readonly masker: SecretMasker) {}

  /** Returns what can be shown now; a possible start of a secret waits for the next chunk. */
  push(text: string): string {
    const masked = this.masker.mask(this.carry + text);
    const held = this.masker.heldTail(masked);
    this.carry = masked.slice(masked.length - held);
    return masked.slice(0, masked.length - held);
  }

  /** At the end of the stream what is held cannot become a secret any more. */
  flush(): string {
    const rest = this.carry;
    this.carry = '';
    return rest;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
