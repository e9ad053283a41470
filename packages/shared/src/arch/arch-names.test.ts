import { archOfOciPlatform, isKnownArch, machineOfArch, ociPlatformOfArch } from './arch-names.js';

test("a Debian arch's ELF machine and registry platform, and back", () => {
  expect(machineOfArch('amd64')).toBe('x86-64');
  expect(machineOfArch('arm64')).toBe('aarch64');
  expect(machineOfArch('armhf')).toBe('arm');
  expect(ociPlatformOfArch('arm64')).toBe('linux/arm64');
  expect(ociPlatformOfArch('armhf')).toBe('linux/arm/v7');
  expect(ociPlatformOfArch('i386')).toBe('linux/386');
  expect(archOfOciPlatform('amd64')).toBe('amd64');
  expect(archOfOciPlatform('arm64', 'v8')).toBe('arm64');
  expect(archOfOciPlatform('arm', 'v7')).toBe('armhf');
  expect(archOfOciPlatform('arm', 'v5')).toBe('armel');
  expect(archOfOciPlatform('arm')).toBe('armhf');
  expect(archOfOciPlatform('ppc64le')).toBe('ppc64el');
  expect(archOfOciPlatform('wasm')).toBe('wasm');
});

test('an unknown arch is refused by name', () => {
  expect(isKnownArch('arm64')).toBe(true);
  expect(isKnownArch('sparc')).toBe(false);
  expect(isKnownArch('toString')).toBe(false);
  expect(() => machineOfArch('sparc')).toThrow(/unknown arch sparc/);
});
