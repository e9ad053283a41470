import { KilnError } from '@kiln/shared';
import type { StageContainer } from '../container-runtime.js';
import { formatBytes } from '../limits-text.js';
import { payloadEntries } from './payload-entries.js';
import type { PayloadPaths } from './payload-paths.js';

/**
 * The install's payload is over the operator's size limit. Thrown before its
 * content is hashed, classified or packed; `exact` is false when counting
 * stopped at the first file past the limit (the payload is at least `sizeBytes`).
 */
export class PayloadTooLargeError extends KilnError {
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
    readonly exact: boolean,
  ) {
    const size = formatBytes(sizeBytes);
    const limit = formatBytes(limitBytes);
    // Rounded, both could read "2.0 GiB": then the bytes say which is larger.
    const rounded = (text: string) => text.replace('.0 ', ' ');
    const precise = rounded(size) === rounded(limit) ? ` (${sizeBytes} bytes against ${limitBytes})` : '';
    super(
      `the install's payload is ${exact ? '' : 'more than '}${size}, over the payload limit of ${limit}${precise} ` +
        '(KILN_PAYLOAD_LIMIT): ' +
        'it was not inspected or packed',
    );
  }
}

/**
 * The payload's content bytes counted from its tar headers, the content
 * passed over unread, stopping at the first file past the limit. Used when
 * Docker's count of what the install wrote (no file read) is over the limit
 * or unknown: that count also holds scratch files that are not payload.
 */
export async function countPayload(
  container: StageContainer,
  roots: readonly string[],
  paths: PayloadPaths,
  limitBytes: number,
  signal?: AbortSignal,
): Promise<{ totalBytes: number; exact: boolean }> {
  let total = 0;
  for await (const { entry } of payloadEntries(container, roots, paths, signal)) {
    const header = entry.header;
    if (header.type === 'file' || header.type === 'contiguous-file') total += header.size ?? 0;
    if (total > limitBytes) throw new PayloadTooLargeError(total, limitBytes, false);
    entry.resume();
  }
  return { totalBytes: total, exact: true };
}
