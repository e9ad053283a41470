import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Where `scripts/build-web.mjs` writes the page's script, style sheet and icon (the same folder from src/ and dist/). */
export const PUBLIC_DIR = new URL('../../dist/public/', import.meta.url);

const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json',
  'style.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export interface WebAssets {
  files: Map<string, Asset>;
  /** URLs with a content hash, so browsers may keep them for good. */
  urls: { script: string; style: string; icon: string };
  /** Names of the files that were not there (the web build did not run). */
  missing: string[];
}

/** Reads the built assets once, at start-up. */
export async function loadAssets(dir: URL = PUBLIC_DIR): Promise<WebAssets> {
  const files = new Map<string, Asset>();
  const missing: string[] = [];
  for (const [name, type] of Object.entries(TYPES)) {
    try {
      const body = await readFile(new URL(name, dir));
      const etag = createHash('sha256').update(body).digest('hex').slice(0, 16);
      files.set(name, { body, type, etag });
    } catch {
      if (!name.endsWith('.map')) missing.push(name);
    }
  }
  const url = (name: string) => `/assets/${name}?v=${files.get(name)?.etag ?? 'missing'}`;
  return { files, urls: { script: url('app.js'), style: url('style.css'), icon: url('icon.svg') }, missing };
}
