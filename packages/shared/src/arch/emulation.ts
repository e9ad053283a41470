import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { debianHostArch } from '../host-arch.js';
import { KNOWN_ARCHS, qemuNameOfArch } from './arch-names.js';

/**
 * How much longer a stage may take when its arch is emulated (KILN_EMULATION_SLOWDOWN's default):
 * bench/emulated-build.ts measured examples/libgreet's stages (gcc, ar, a test program) under
 * qemu-user for arm64 at 9.8–12.1x native, median 11.6x, on a loaded 2-core amd64 machine. Twice
 * that, rounded up: bigger compiles (C++, LTO) suffer more from emulation than a small C library.
 */
export const DEFAULT_EMULATION_SLOWDOWN = 24;

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

/**
 * The archs this machine can run containers for: its own, and those whose
 * qemu binfmt_misc handler is registered and enabled (Debian's
 * qemu-user-static registers them with the F flag, so they work inside
 * containers too).
 */
export async function runnableArchs(
  binfmtDir: string = BINFMT_DIR,
  host: string = debianHostArch(),
): Promise<string[]> {
  const archs = [host];
  for (const arch of KNOWN_ARCHS) {
    if (arch === host || archs.includes(arch)) continue;
    const handler = await readFile(path.join(binfmtDir, `qemu-${qemuNameOfArch(arch)}`), 'utf8').catch(() => '');
    if (/^enabled$/m.test(handler) && /^flags:.*F/m.test(handler)) archs.push(arch);
  }
  return archs;
}
