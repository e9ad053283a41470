import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { debianHostArch } from '../host-arch.js';
import { isDebianArch } from './debian-arch.js';

/**
 * The Debian arches each qemu-user binfmt handler runs (the handler's name
 * under /proc/sys/fs/binfmt_misc, as Debian's qemu-user-static registers it).
 * qemu-arm runs both 32-bit ARM ABIs.
 */
const QEMU_ARCHES: Readonly<Record<string, readonly string[]>> = {
  'qemu-aarch64': ['arm64'],
  'qemu-arm': ['armhf', 'armel'],
  'qemu-i386': ['i386'],
  'qemu-x86_64': ['amd64'],
  'qemu-riscv64': ['riscv64'],
  'qemu-ppc64le': ['ppc64el'],
  'qemu-ppc64': ['ppc64'],
  'qemu-ppc': ['powerpc'],
  'qemu-s390x': ['s390x'],
  'qemu-mips64el': ['mips64el'],
  'qemu-mipsel': ['mipsel'],
  'qemu-loongarch64': ['loong64'],
  'qemu-alpha': ['alpha'],
  'qemu-hppa': ['hppa'],
  'qemu-m68k': ['m68k'],
  'qemu-sh4': ['sh4'],
  'qemu-sparc64': ['sparc64'],
};

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

export interface ServedArchesOptions {
  /** KILN_ARCHS: a comma list set by hand; when set, it is the whole answer. */
  configured?: readonly string[];
  /** Where binfmt_misc is mounted (a test points it elsewhere). */
  binfmtDir?: string;
  /** The host's Debian arch (default: this process's). */
  native?: string;
}

export interface ServedArches {
  /** Native first, then the emulated ones in name order. */
  arches: string[];
  native: string;
  /** Where the list came from: `KILN_ARCHS`, or the native arch plus the enabled qemu handlers. */
  source: 'KILN_ARCHS' | 'binfmt';
  /** The qemu handlers found enabled, by name (empty when KILN_ARCHS decided). */
  handlers: string[];
}

/**
 * The arches this host can build for: its own, plus every arch whose qemu
 * binfmt_misc handler is registered and enabled (builds of it run under
 * emulation), or exactly what KILN_ARCHS says. A binfmt_misc that is not
 * mounted or not readable just means no emulation.
 */
export async function servedArches(options: ServedArchesOptions = {}): Promise<ServedArches> {
  const native = options.native ?? debianHostArch();
  if (options.configured && options.configured.length > 0) {
    const unknown = options.configured.filter((a) => !isDebianArch(a));
    if (unknown.length > 0) {
      throw new ConfigError(
        `KILN_ARCHS: ${unknown.map((a) => JSON.stringify(a)).join(', ')} is not a Debian architecture name (amd64, arm64, armhf, i386, riscv64, …)`,
      );
    }
    return { arches: [...new Set(options.configured)], native, source: 'KILN_ARCHS', handlers: [] };
  }
  const dir = options.binfmtDir ?? BINFMT_DIR;
  const handlers: string[] = [];
  const emulated = new Set<string>();
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const arches = QEMU_ARCHES[name];
    if (!arches) continue;
    if (!(await handlerEnabled(path.join(dir, name)))) continue;
    handlers.push(name);
    for (const arch of arches) if (arch !== native) emulated.add(arch);
  }
  return { arches: [native, ...[...emulated].sort()], native, source: 'binfmt', handlers };
}

/** A handler file's first line is `enabled` or `disabled`. */
async function handlerEnabled(file: string): Promise<boolean> {
  try {
    const text = await readFile(file, 'utf8');
    // Without the F flag the kernel opens the emulator inside the container's file system, where it is not.
    return text.split('\n', 1)[0]?.trim() === 'enabled' && /^flags:.*F/m.test(text);
  } catch {
    return false;
  }
}
