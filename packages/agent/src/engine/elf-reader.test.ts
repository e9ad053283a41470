import { open, readFile } from 'node:fs/promises';
import { readElf, type ByteSource } from './elf-reader.js';
import { classifyFile } from './file-kind.js';

async function fileSource(file: string): Promise<ByteSource & { close(): Promise<void> }> {
  const handle = await open(file, 'r');
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      return buffer.subarray(0, bytesRead);
    },
    close: () => handle.close(),
  };
}

async function classify(file: string, installedAs = file) {
  const source = await fileSource(file);
  try {
    const elf = await readElf(source);
    return { elf, ...classifyFile({ path: installedAs, mode: 0o755, head: await source.read(0, 64), elf }) };
  } finally {
    await source.close();
  }
}

// Real binaries of this host (Debian 12, x86-64).
describe('readElf and classifyFile on real binaries', () => {
  test('busybox-static is a static executable', async () => {
    const result = await classify('/bin/busybox');
    expect(result.elf).toMatchObject({ bits: 64, type: 'executable', hasDynamic: false, needed: [] });
    expect(result.elf?.interpreter).toBeUndefined();
    expect(result).toMatchObject({ kind: 'executable', linkage: 'static' });
  });

  test('ls is a dynamic PIE executable with its interpreter and needed libraries', async () => {
    const result = await classify('/bin/ls');
    expect(result.elf).toMatchObject({
      machine: 'x86-64',
      type: 'dynamic',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
      pie: true,
    });
    expect(result).toMatchObject({ kind: 'executable', linkage: 'dynamic' });
    expect(result.needed).toEqual(expect.arrayContaining(['libc.so.6', 'libselinux.so.1']));
  });

  test('libz.so.1 is a shared library needing libc', async () => {
    const result = await classify('/lib/x86_64-linux-gnu/libz.so.1');
    expect(result.elf?.soname).toBe('libz.so.1');
    expect(result).toEqual(
      expect.objectContaining({ kind: 'shared-library', linkage: 'dynamic', needed: ['libc.so.6'] }),
    );
  });

  test('libc.so.6 has an interpreter but is named, and classified, as a library', async () => {
    const result = await classify('/lib/x86_64-linux-gnu/libc.so.6');
    expect(result.elf?.interpreter).toBeDefined();
    expect(result.kind).toBe('shared-library');
  });

  test('an ar archive is a static library; a header is other; a file under /etc is config', async () => {
    expect((await classify('/usr/lib/x86_64-linux-gnu/libc_nonshared.a')).kind).toBe('static-library');
    expect(
      classifyFile({ path: '/usr/include/zlib.h', mode: 0o644, head: Buffer.from('/* zlib.h'), elf: null }).kind,
    ).toBe('other');
    expect(classifyFile({ path: '/etc/app/app.conf', mode: 0o644, head: Buffer.from('x=1\n'), elf: null }).kind).toBe(
      'config',
    );
    expect(classifyFile({ path: '/usr/bin/tool', mode: 0o755, head: Buffer.from('#!/bin/sh\n'), elf: null })).toEqual({
      kind: 'executable',
    });
  });
});

describe('readElf on hostile input', () => {
  const bufferSource = (buffer: Buffer): ByteSource => ({
    size: buffer.length,
    read: async (offset, length) => buffer.subarray(offset, offset + length),
  });

  test('not ELF, or too short', async () => {
    expect(await readElf(bufferSource(Buffer.from('#!/bin/sh\necho hi\n'.repeat(10))))).toBeNull();
    expect(await readElf(bufferSource(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1])))).toBeNull();
  });

  test('offsets pointing outside the file are refused, not followed', async () => {
    const ls = await readFile('/bin/ls');
    const broken = Buffer.from(ls.subarray(0, 4096));
    broken.writeBigUInt64LE(0xffffffffffn, 32); // e_phoff far beyond the end
    expect(await readElf(bufferSource(broken))).toBeNull();
  });

  test('a truncated file yields what can be read', async () => {
    const ls = await readFile('/bin/ls');
    const info = await readElf(bufferSource(ls.subarray(0, 2048)));
    expect(info).toMatchObject({ bits: 64, type: 'dynamic', interpreter: '/lib64/ld-linux-x86-64.so.2' });
  });
});
