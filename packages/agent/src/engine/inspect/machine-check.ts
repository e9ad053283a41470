import { isKnownArch, machineOfArch, type InstalledFile, type PolicyFlag } from '@kiln/shared';

export interface ForeignFile {
  path: string;
  machine: string;
}

/**
 * The executables and shared libraries of a payload that are for another
 * machine than the build's arch: a host binary copied into an arm64 package,
 * a cross-compile that fell back to the native compiler. Object files and
 * other ELF files (firmware, BPF programs) are recorded but not judged, nor
 * is an arch Kiln has no machine name for.
 */
export function foreignMachineFiles(files: readonly InstalledFile[], arch: string): ForeignFile[] {
  if (!isKnownArch(arch)) return [];
  const expected = machineOfArch(arch);
  return files
    .filter((f) => f.kind === 'executable' || f.kind === 'shared-library')
    .flatMap((f) => (f.machine && f.machine !== expected ? [{ path: f.path, machine: f.machine }] : []));
}

/** The failure's text: the files named (the first few), what they are for, and how a manifest allows them. */
export function describeForeignFiles(files: readonly ForeignFile[], arch: string): string {
  const shown = files.slice(0, 5).map((f) => `${f.path} (${f.machine})`);
  const more = files.length > 5 ? ` and ${files.length - 5} more` : '';
  return (
    `the machine check found ${files.length} file(s) for another machine than ${arch} (${machineOfArch(arch)}): ` +
    `${shown.join(', ')}${more}; the manifest's policy: {machine: warn} allows them`
  );
}

/** An allowed one, as the report's flags record it. */
export function foreignFileFlag(file: ForeignFile, arch: string): PolicyFlag {
  return { path: file.path, rule: 'machine', message: `is for ${file.machine}, not ${machineOfArch(arch)} (${arch})` };
}
