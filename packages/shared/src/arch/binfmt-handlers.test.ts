import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { servedArches } from './served-arches.js';

const runnableArchs = async (binfmtDir: string, native: string) => (await servedArches({ binfmtDir, native })).arches;

let dir: string;
beforeAll(async () => {
  // binfmt_misc's files, as the kernel writes them.
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-binfmt-'));
  const handler = (state: string, flags: string) =>
    `${state}\ninterpreter /usr/libexec/qemu-binfmt/x-binfmt-P\nflags: ${flags}\noffset 0\nmagic 7f454c46\n`;
  await writeFile(path.join(dir, 'qemu-aarch64'), handler('enabled', 'POCF'));
  await writeFile(path.join(dir, 'qemu-riscv64'), handler('disabled', 'POCF'));
  // Without F the interpreter is opened in the container's filesystem, where it is not.
  await writeFile(path.join(dir, 'qemu-s390x'), handler('enabled', 'POC'));
  await writeFile(path.join(dir, 'qemu-x86_64'), handler('enabled', 'POCF'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('the host arch, and each arch with an enabled handler that works in containers (F)', async () => {
  expect(await runnableArchs(dir, 'amd64')).toEqual(['amd64', 'arm64']);
  expect(await runnableArchs(dir, 'arm64')).toEqual(['arm64', 'amd64']);
  expect(await runnableArchs(path.join(dir, 'absent'), 'amd64')).toEqual(['amd64']);
});
