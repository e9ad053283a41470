import type { InstalledFile } from '@kiln/shared';
import { describeForeignFiles, foreignMachineFiles } from './machine-check.js';

const file = (path: string, kind: InstalledFile['kind'], machine?: string): InstalledFile => ({
  path,
  size: 1,
  mode: '0755',
  kind,
  ...(machine ? { machine } : {}),
});

const payload = [
  file('/usr/lib/libgreet.so.1', 'shared-library', 'aarch64'),
  file('/usr/bin/true', 'executable', 'x86-64'),
  file('/usr/lib/greet.o', 'other', 'x86-64'),
  file('/usr/lib/bpf/prog.o', 'other', 'bpf'),
  file('/usr/share/doc/README', 'other'),
];

test("an arm64 payload's x86-64 executable is foreign; its object files and non-ELF files are not judged", () => {
  expect(foreignMachineFiles(payload, 'arm64')).toEqual([{ path: '/usr/bin/true', machine: 'x86-64' }]);
  expect(foreignMachineFiles(payload, 'amd64')).toEqual([{ path: '/usr/lib/libgreet.so.1', machine: 'aarch64' }]);
  // armhf and armel binaries are both `arm`.
  expect(foreignMachineFiles([file('/usr/bin/x', 'executable', 'arm')], 'armel')).toEqual([]);
  // An arch Kiln has no machine name for is not judged.
  expect(foreignMachineFiles(payload, 'hurd-i386')).toEqual([]);
});

test('the failure names the files, their machine, the arch and how to allow them', () => {
  const text = describeForeignFiles([{ path: '/usr/bin/true', machine: 'x86-64' }], 'arm64');
  expect(text).toContain('/usr/bin/true (x86-64)');
  expect(text).toContain('arm64 (aarch64)');
  expect(text).toContain('policy: {machine: warn}');
});
