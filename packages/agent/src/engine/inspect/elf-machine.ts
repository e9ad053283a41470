/**
 * Kiln's name for an ELF file's e_machine: the names DESIGN.md uses
 * (`x86-64`, `aarch64`, `arm`, `i386`, `riscv64`, …), with the 64-bit
 * variant of families that share one number; `em-<n>` for the rest.
 */
const MACHINES: Record<number, string | { 32: string; 64: string }> = {
  2: 'sparc',
  3: 'i386',
  8: { 32: 'mips', 64: 'mips64' },
  20: 'ppc',
  21: 'ppc64',
  22: { 32: 's390', 64: 's390x' },
  40: 'arm',
  43: 'sparc64',
  50: 'ia64',
  62: 'x86-64',
  183: 'aarch64',
  243: { 32: 'riscv32', 64: 'riscv64' },
  247: 'bpf',
  258: 'loongarch64',
};

export function elfMachineName(eMachine: number, bits: 32 | 64): string {
  const name = MACHINES[eMachine];
  if (name === undefined) return `em-${eMachine}`;
  return typeof name === 'string' ? name : name[bits];
}
