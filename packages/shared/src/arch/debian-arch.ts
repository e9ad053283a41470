import { z } from 'zod';

/**
 * Debian's architecture names, as `dpkg --print-architecture` prints them:
 * the release architectures and the ports a farm may plausibly emulate.
 */
export const DEBIAN_ARCHES = [
  'amd64',
  'arm64',
  'armel',
  'armhf',
  'i386',
  'mips64el',
  'mipsel',
  'ppc64el',
  'riscv64',
  's390x',
  'loong64',
  'alpha',
  'hppa',
  'm68k',
  'powerpc',
  'ppc64',
  'sh4',
  'sparc64',
  'x32',
] as const;
export type DebianArch = (typeof DEBIAN_ARCHES)[number];

const KNOWN = new Set<string>(DEBIAN_ARCHES);

export function isDebianArch(value: string): value is DebianArch {
  return KNOWN.has(value);
}

/** One Debian arch name; the message lists a few so a typo is easy to fix. */
export const DebianArchSchema = z.string().refine((value): boolean => isDebianArch(value), {
  message: 'is not a Debian architecture name (amd64, arm64, armhf, i386, riscv64, …)',
});
