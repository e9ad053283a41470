import os from 'node:os';

const DEBIAN_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'armhf',
  ia32: 'i386',
  riscv64: 'riscv64',
  ppc64: 'ppc64el',
  s390x: 's390x',
  loong64: 'loong64',
};

/**
 * The Debian name of this host's architecture. Builds and packages carry no
 * arch yet: until they do, every package is taken to be built for the host's.
 */
export function debianHostArch(nodeArch: string = os.arch()): string {
  return DEBIAN_ARCH[nodeArch] ?? nodeArch;
}
