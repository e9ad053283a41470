import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import type { ArtifactFormat } from '@kiln/shared';
import { checkEntry, safeExtract, UnsafeArchiveError } from './safe-extract.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-extract-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A real .tar.gz (or .tar.zst, packed by the `zstd` program as the agent does) made with tar-stream. */
async function archive(
  entries: Array<Partial<Header> & { name: string; body?: string }>,
  format: ArtifactFormat = 'tar.gz',
): Promise<string> {
  const file = path.join(dir, `a.${format}`);
  const tar = pack();
  let written: Promise<void>;
  if (format === 'tar.gz') {
    written = pipeline(tar, createGzip(), createWriteStream(file));
  } else {
    const zstd = spawn('zstd', ['-q', '-3', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    written = Promise.all([pipeline(tar, zstd.stdin), pipeline(zstd.stdout, createWriteStream(file))]).then(() => {});
  }
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

  test('reads a .tar.zst as well, told apart by its first bytes', async () => {
    const body = 'zstd payload\n'.repeat(20_000);
    const file = await archive(
      [
        { name: 'usr/share/doc', type: 'directory', mode: 0o755 },
        { name: 'usr/share/doc/big.txt', body },
        { name: 'usr/bin/tool', body: '#!/bin/sh\n', mode: 0o755 },
      ],
      'tar.zst',
    );
    const to = path.join(dir, 'root');
    expect(await safeExtract(file, to)).toEqual({ files: 2, directories: 1, symlinks: 0, strippedModes: [] });
    expect(await readFile(path.join(to, 'usr/share/doc/big.txt'), 'utf8')).toBe(body);
    expect((await stat(path.join(to, 'usr/bin/tool'))).mode & 0o777).toBe(0o755);
  });

  test('refuses a file that is neither gzip nor zstd, and zstd data cut short', async () => {
    const junk = path.join(dir, 'junk.tar.zst');
    await writeFile(junk, 'not an archive at all');
    await expect(safeExtract(junk, path.join(dir, 'root'))).rejects.toThrow('neither a .tar.gz nor a .tar.zst');
    const whole = await readFile(await archive([{ name: 'f', body: 'x'.repeat(100_000) }], 'tar.zst'));
    const cut = path.join(dir, 'cut.tar.zst');
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(safeExtract(cut, path.join(dir, 'root2'))).rejects.toThrow(/zstd/);
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
