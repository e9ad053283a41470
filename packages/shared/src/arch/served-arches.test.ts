import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { servedArches } from './served-arches.js';

describe('servedArches', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-binfmt-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const handler = (name: string, state: 'enabled' | 'disabled') =>
    writeFile(path.join(dir, name), `${state}\ninterpreter /usr/libexec/qemu-binfmt/${name}\nflags: POCF\n`);

  test('native plus every enabled qemu handler, in Debian names', async () => {
    await handler('qemu-aarch64', 'enabled');
    await handler('qemu-riscv64', 'disabled');
    await handler('qemu-arm', 'enabled');
    await handler('qemu-x86_64', 'enabled'); // the host's own: not emulated
    await writeFile(path.join(dir, 'status'), 'enabled\n');
    await writeFile(path.join(dir, 'register'), '');
    const served = await servedArches({ binfmtDir: dir, native: 'amd64' });
    expect(served).toEqual({
      arches: ['amd64', 'arm64', 'armel', 'armhf'],
      native: 'amd64',
      source: 'binfmt',
      handlers: ['qemu-aarch64', 'qemu-arm', 'qemu-x86_64'],
    });
  });

  test('no binfmt_misc mounted: native only', async () => {
    const served = await servedArches({ binfmtDir: path.join(dir, 'absent'), native: 'arm64' });
    expect(served.arches).toEqual(['arm64']);
  });

  test('KILN_ARCHS decides alone, and names what is not an arch', async () => {
    await handler('qemu-aarch64', 'enabled');
    const served = await servedArches({ configured: ['amd64'], binfmtDir: dir, native: 'amd64' });
    expect(served).toMatchObject({ arches: ['amd64'], source: 'KILN_ARCHS' });
    await expect(servedArches({ configured: ['amd64', 'aarch64'] })).rejects.toThrow(
      'KILN_ARCHS: "aarch64" is not a Debian architecture name',
    );
  });
});
