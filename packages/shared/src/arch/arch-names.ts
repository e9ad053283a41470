/**
 * What each Debian architecture is called elsewhere: the ELF machine its
 * binaries carry (as Kiln names e_machine), the OCI platform a registry's
 * manifest list files it under, and qemu's name for its emulator (the
 * binfmt_misc handler `qemu-<name>`).
 */
interface ArchNames {
  machine: string;
  oci: { architecture: string; variant?: string };
  qemu: string;
}

const ARCHS: Record<string, ArchNames> = {
  amd64: { machine: 'x86-64', oci: { architecture: 'amd64' }, qemu: 'x86_64' },
  arm64: { machine: 'aarch64', oci: { architecture: 'arm64' }, qemu: 'aarch64' },
  armhf: { machine: 'arm', oci: { architecture: 'arm', variant: 'v7' }, qemu: 'arm' },
  armel: { machine: 'arm', oci: { architecture: 'arm', variant: 'v5' }, qemu: 'arm' },
  i386: { machine: 'i386', oci: { architecture: '386' }, qemu: 'i386' },
  riscv64: { machine: 'riscv64', oci: { architecture: 'riscv64' }, qemu: 'riscv64' },
  ppc64el: { machine: 'ppc64', oci: { architecture: 'ppc64le' }, qemu: 'ppc64le' },
  s390x: { machine: 's390x', oci: { architecture: 's390x' }, qemu: 's390x' },
  mips64el: { machine: 'mips64', oci: { architecture: 'mips64le' }, qemu: 'mips64el' },
  loong64: { machine: 'loongarch64', oci: { architecture: 'loong64' }, qemu: 'loongarch64' },
};

/** The Debian architectures Kiln knows how to build for. */
export const KNOWN_ARCHS: readonly string[] = Object.keys(ARCHS);

export function isKnownArch(arch: string): boolean {
  return Object.hasOwn(ARCHS, arch);
}

function names(arch: string): ArchNames {
  const found = ARCHS[arch];
  if (!found) throw new Error(`unknown arch ${arch}: Kiln knows ${KNOWN_ARCHS.join(', ')}`);
  return found;
}

/** The ELF machine (`x86-64`, `aarch64`, …) an arch's executables and libraries are for. */
export function machineOfArch(arch: string): string {
  return names(arch).machine;
}

/** The platform to ask a registry for (`linux/arm64`, `linux/arm/v7`). */
export function ociPlatformOfArch(arch: string): string {
  const { architecture, variant } = names(arch).oci;
  return `linux/${architecture}${variant ? `/${variant}` : ''}`;
}

/** The Debian arch of an image as Docker describes it (`Architecture`, `Variant`); unknown ones as given. */
export function archOfOciPlatform(architecture: string, variant?: string): string {
  const matches = Object.entries(ARCHS).filter(([, n]) => n.oci.architecture === architecture);
  const exact = matches.find(([, n]) => (n.oci.variant ?? '') === (variant ?? ''));
  // Docker leaves the variant out of an `arm` image now and then; v7 (armhf) is what such images are.
  return (exact ?? matches.find(([, n]) => n.oci.variant === 'v7') ?? matches[0])?.[0] ?? architecture;
}

/** qemu's name for an arch's emulator: its binfmt_misc handler is `qemu-<name>`. */
export function qemuNameOfArch(arch: string): string {
  return names(arch).qemu;
}
