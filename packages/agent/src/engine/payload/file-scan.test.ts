import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { readElf, type ByteSource } from '../elf-reader.js';
import { scanFile } from './file-scan.js';

/** The file in chunks of odd sizes: a few bytes first (a network read may split anywhere), then 61 KiB. */
async function* chunksOf(file: string): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    const sizes = [3, 1, 17];
    for (let position = 0; ;) {
      const buffer = Buffer.alloc(sizes.shift() ?? 61 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

async function elfOf(file: string) {
  const handle = await open(file, 'r');
  const { size } = await handle.stat();
  const source: ByteSource = {
    size,
    async read(offset, length) {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      return buffer.subarray(0, bytesRead);
    },
  };
  try {
    return await readElf(source);
  } finally {
    await handle.close();
  }
}

// Real files of this host (Debian 12, x86-64). Node's own binary is the hard
// case: about 95 MiB, its dynamic section 82 MiB in, its string table 2 MiB in.
const FILES = [
  process.execPath,
  '/usr/bin/git',
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/bin/ldd',
  '/etc/os-release',
];

describe('scanFile: one pass over a streamed file gives what reading the file at will gives', () => {
  test.each(FILES)(
    '%s',
    async (file) => {
      const { size } = await stat(file);
      const hash = createHash('sha256');
      let passedOn = 0;
      let told = 0;
      const scanned = await scanFile(
        chunksOf(file),
        size,
        (chunk) => {
          hash.update(chunk);
          passedOn += chunk.length;
          return undefined;
        },
        (bytes) => (told += bytes),
      );
      const content = await readFile(file);
      expect(scanned.size).toBe(size);
      expect(scanned.sha256).toBe(createHash('sha256').update(content).digest('hex'));
      // Every byte went on to the artifact, in order, and was counted for progress.
      expect(hash.digest('hex')).toBe(scanned.sha256);
      expect([passedOn, told]).toEqual([size, size]);
      expect(scanned.head).toEqual(content.subarray(0, 64));
      expect(scanned.elf).toEqual(await elfOf(file));
      // Node's own binary is about 95 MiB: seconds on a loaded 2-core machine.
    },
    60_000,
  );

  test('an ELF binary far larger than what is kept still gets its needed libraries', async () => {
    const { size } = await stat(process.execPath);
    expect(size).toBeGreaterThan(64 * 1024 ** 2);
    const scanned = await scanFile(chunksOf(process.execPath), size, null, () => undefined);
    expect(scanned.elf?.needed).toContain('libc.so.6');
    // Hashing Node's ~95 MiB binary takes seconds on a loaded 2-core machine.
  }, 60_000);

  test('a writer that is behind is waited for', async () => {
    const order: string[] = [];
    await scanFile(
      chunksOf('/etc/os-release'),
      (await stat('/etc/os-release')).size,
      () => {
        order.push('write');
        return new Promise<void>((resolve) => setTimeout(() => (order.push('drained'), resolve()), 5));
      },
      () => order.push('counted'),
    );
    expect(order.slice(0, 3)).toEqual(['write', 'drained', 'counted']);
  });
});
