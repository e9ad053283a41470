import { readFileSync } from 'node:fs';

/** This Kiln's version (the agent package's), as SBOMs and provenance name their tool. */
export const KILN_VERSION: string = (() => {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
