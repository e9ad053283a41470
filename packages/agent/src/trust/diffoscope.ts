import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { InstalledFile } from '@kiln/shared';
import { shellQuote } from '../engine/stage-script.js';
import { runInImage, type ImageRunOptions } from './image-run.js';

const run = promisify(execFile);
/** Files shown with diffoscope, and the text kept of each. */
export const DIFF_FILES = 5;
export const DIFF_BYTES = 16 * 1024;
const MARK = '@@kiln-diffoscope-file';

export interface DiffInput {
  run: Omit<ImageRunOptions, 'script' | 'purpose' | 'image' | 'mounts'>;
  image: string;
  /** A scratch folder of the check's own. */
  dir: string;
  artifacts: { first: string; second: string };
  first: readonly InstalledFile[];
  second: readonly InstalledFile[];
  differing: readonly string[];
}

/**
 * A readable difference of the first few differing files: both versions are
 * taken out of the two artifacts and given to Debian's diffoscope, run in a
 * container of its own (no network, Kiln's limits), its text capped. Without
 * the diffoscope image, a line that names both digests and sizes.
 */
export async function describeDifferences(input: DiffInput): Promise<Array<{ path: string; diff: string }>> {
  const byPath = (files: readonly InstalledFile[]) => new Map(files.map((f) => [f.path, f]));
  const [a, b] = [byPath(input.first), byPath(input.second)];
  const shown = input.differing.slice(0, DIFF_FILES);
  const summary = (p: string) => {
    const [x, y] = [a.get(p), b.get(p)];
    if (!x || !y) return `${p}: installed by the ${x ? 'first' : 'second'} build only`;
    return `${p}: sha256 ${x.sha256 ?? '-'} (${x.size} bytes, ${x.mode}) → ${y.sha256 ?? '-'} (${y.size} bytes, ${y.mode})`;
  };
  const comparable = shown.filter((p) => a.get(p)?.sha256 && b.get(p)?.sha256);
  const texts = new Map<string, string>();
  if (comparable.length > 0 && (await input.run.runtime.images.inspect(input.image))) {
    for (const [side, artifact] of [
      ['a', input.artifacts.first],
      ['b', input.artifacts.second],
    ] as const) {
      const into = path.join(input.dir, side);
      await mkdir(into, { recursive: true });
      await run('tar', ['-xf', artifact, '-C', into, '--', ...comparable.map((p) => p.replace(/^\/+/, ''))]);
    }
    const script = comparable
      .map((p, i) => {
        const rel = shellQuote(p.replace(/^\/+/, ''));
        return `echo '${MARK} ${i}'; diffoscope --no-progress --text - --max-text-report-size ${DIFF_BYTES} /cmp/a/${rel} /cmp/b/${rel} 2>&1 | head -c ${DIFF_BYTES}`;
      })
      .join('\n');
    await writeFile(path.join(input.dir, 'compare.sh'), `${script}\nexit 0\n`);
    const result = await runInImage({
      ...input.run,
      image: input.image,
      purpose: 'diffoscope',
      script: 'sh /cmp/compare.sh',
      mounts: [{ source: input.dir, target: '/cmp' }],
      limitBytes: (DIFF_BYTES + 200) * comparable.length,
    });
    for (const section of result.stdout.split(`${MARK} `).slice(1)) {
      const newline = section.indexOf('\n');
      const p = comparable[Number(section.slice(0, newline))];
      if (p) texts.set(p, section.slice(newline + 1).trimEnd());
    }
  }
  return shown.map((p) => ({ path: p, diff: texts.get(p) || summary(p) }));
}
