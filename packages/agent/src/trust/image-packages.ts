import type { ImageRunOptions } from './image-run.js';
import { runInImage } from './image-run.js';

/** A Debian package installed in the compiler image. */
export interface ImagePackage {
  name: string;
  version: string;
  arch: string;
}

export interface ImageFacts {
  /** `dpkg --print-architecture`: what the build ran as; null on an image without dpkg. */
  arch: string | null;
  packages: ImagePackage[];
  /** For each needed SONAME, the image's package that ships a file of that name (`dpkg -S`). */
  providers: Map<string, string>;
}

const SONAME = /^[\w.+-]+$/;

/**
 * What the compiler image holds, asked of dpkg in a fresh container of that
 * image (never the build's own containers, whose dpkg database the build
 * scripts could have changed). An image without dpkg has no packages to list.
 */
export async function imageFacts(
  run: Omit<ImageRunOptions, 'script' | 'purpose'>,
  neededSonames: readonly string[],
): Promise<ImageFacts> {
  const sonames = [...new Set(neededSonames)].filter((s) => SONAME.test(s)).sort();
  const script = [
    'command -v dpkg-query >/dev/null 2>&1 || exit 0',
    'echo "arch $(dpkg --print-architecture)"',
    `dpkg-query -W -f='pkg \${db:Status-Abbrev}\\t\${binary:Package}\\t\${Version}\\t\${Architecture}\\n'`,
    ...sonames.map((s) => `dpkg -S '*/${s}' 2>/dev/null | sed 's/^/so ${s}\\t/'`),
    'exit 0',
  ].join('\n');
  const result = await runInImage({ ...run, script, purpose: 'sbom' });
  const facts: ImageFacts = { arch: null, packages: [], providers: new Map() };
  for (const line of result.stdout.split('\n')) {
    if (line.startsWith('arch ')) facts.arch = line.slice(5).trim() || null;
    else if (line.startsWith('pkg ')) {
      const [status = '', name = '', version = '', arch = ''] = line.slice(4).split('\t');
      // `ii `: wanted install, installed; anything else (removed, config-files only) is not in the image.
      if (status.startsWith('ii') && name) facts.packages.push({ name: name.replace(/:.*$/, ''), version, arch });
    } else if (line.startsWith('so ')) {
      const [soname = '', rest = ''] = line.slice(3).split('\t');
      // `libc6:amd64: /usr/lib/x86_64-linux-gnu/libc.so.6` (several packages: `a, b: path`).
      const owner = rest.split(': ')[0]?.split(',')[0]?.trim().replace(/:.*$/, '');
      if (owner && !facts.providers.has(soname)) facts.providers.set(soname, owner);
    }
  }
  facts.packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return facts;
}
