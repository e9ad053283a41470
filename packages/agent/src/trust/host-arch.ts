import os from 'node:os';

const DEBIAN_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'armhf',
  ia32: 'i386',
  riscv64: 'riscv64',
  ppc64: 'ppc64el',
  s390x: 's390x',
};

/** This host's architecture in Debian's words: a build's when its image has no dpkg to ask. */
export function debianHostArch(nodeArch: string = os.arch()): string {
  return DEBIAN_ARCH[nodeArch] ?? nodeArch;
}
