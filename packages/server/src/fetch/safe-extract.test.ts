import { createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { checkEntry, safeExtract, UnsafeArchiveError } from './safe-extract.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-extract-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real .tar.gz made with tar-stream, entries as given. */
async function archive(entries: Array<Partial<Header> & { name: string; body?: string }>): Promise<string> {
  const file = path.join(dir, 'a.tar.gz');
  const tar = pack();
  const written = pipeline(tar, createGzip(), createWriteStream(file));
  for (const { body, ...header } of entries) tar.entry({ mode: 0o644, ...header }, body ?? '');
  tar.finalize();
  await written;
  return file;
}

describe('safeExtract', () => {
  test('installs files, folders and symlinks with their modes, dropping setuid unless asked', async () => {
    const file = await archive([
      { name: 'usr/bin', type: 'directory', mode: 0o755 },
      { name: 'usr/bin/hello', body: 'hi\n', mode: 0o4755 },
      { name: 'usr/lib/libz.so.1', type: 'symlink', linkname: 'libz.so.1.3.1' },
    ]);
    const to = path.join(dir, 'root');
    const result = await safeExtract(file, to);
    expect(result).toEqual({ files: 1, directories: 1, symlinks: 1, strippedModes: ['/usr/bin/hello'] });
    expect(await readFile(path.join(to, 'usr/bin/hello'), 'utf8')).toBe('hi\n');
    expect((await stat(path.join(to, 'usr/bin/hello'))).mode & 0o7777).toBe(0o755);
    expect(await readlink(path.join(to, 'usr/lib/libz.so.1'))).toBe('libz.so.1.3.1');
    const kept = await safeExtract(file, path.join(dir, 'kept'), { allowSetuid: true });
    expect(kept.strippedModes).toEqual([]);
    expect((await stat(path.join(dir, 'kept/usr/bin/hello'))).mode & 0o7777).toBe(0o4755);
  });

  test.each([
    [{ name: '../evil', body: 'x' }, 'leaves the target folder'],
    [{ name: 'a/../../evil', body: 'x' }, 'leaves the target folder'],
    [{ name: 'dev/sda', type: 'block-device' as const }, 'is a device file'],
    [{ name: 'dev/tty', type: 'character-device' as const }, 'is a device file'],
    [{ name: 'etc/shadow', type: 'link' as const, linkname: 'etc/passwd' }, 'is a hard link'],
    [{ name: 'run/pipe', type: 'fifo' as const }, 'is a fifo'],
  ])('refuses %j (%s) and writes nothing', async (entry, reason) => {
    const file = await archive([{ name: 'first', body: 'ok' }, entry]);
    const to = path.join(dir, 'root');
    await expect(safeExtract(file, to)).rejects.toThrow(reason);
    await expect(lstat(to)).rejects.toThrow();
  });

  test('never writes through a symlink, even one the archive made itself', async () => {
    const outside = path.join(dir, 'outside');
    await mkdir(outside);
    const file = await archive([
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/planted', body: 'gotcha' },
    ]);
    await expect(safeExtract(file, path.join(dir, 'root'))).rejects.toThrow(UnsafeArchiveError);
    await expect(lstat(path.join(outside, 'planted'))).rejects.toThrow();
  });

  test('does not follow a symlink already in the folder when writing a file', async () => {
    const to = path.join(dir, 'root');
    await mkdir(to);
    await symlink(path.join(dir, 'victim'), path.join(to, 'file'));
    const file = await archive([{ name: 'file', body: 'x' }]);
    await expect(safeExtract(file, to)).rejects.toThrow();
    await expect(lstat(path.join(dir, 'victim'))).rejects.toThrow();
  });

  test('checkEntry keeps names inside the folder', () => {
    expect(checkEntry({ name: '/usr/bin/x', type: 'file' })).toBe('usr/bin/x');
    expect(checkEntry({ name: './a/./b', type: 'file' })).toBe('a/b');
    expect(() => checkEntry({ name: 'a\0b', type: 'file' })).toThrow('NUL');
  });
});
