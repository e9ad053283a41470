import { createHash } from 'node:crypto';

type Source = (file: string) => Promise<Buffer | null>;

/**
 * Remembers the manifest file a reader found (the last one that existed: the
 * reader stops at it) and its sha256, for the provenance: the bytes as read
 * from the commit, before any build could change the checkout.
 */
export function manifestDigester(): {
  source(inner: Source): Source;
  found(): { file: string; sha256: string } | undefined;
} {
  let found: { file: string; sha256: string } | undefined;
  return {
    source: (inner) => async (file) => {
      const bytes = await inner(file);
      if (bytes) found = { file, sha256: createHash('sha256').update(bytes).digest('hex') };
      return bytes;
    },
    found: () => found,
  };
}
