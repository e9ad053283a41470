import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readElf, type ByteSource } from '../elf-reader.js';
import { classifyFile } from '../file-kind.js';
import { elfFacts } from './elf-facts.js';

const run = promisify(execFile);
let dir: string;

async function factsOf(file: string, mode = 0o755) {
  const handle = await open(path.join(dir, file), 'r');
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
    const elf = await readElf(source);
    const kind = classifyFile({ path: `/usr/bin/${file}`, mode, head: await source.read(0, 64), elf });
    return { kind: kind.kind, linkage: kind.linkage, ...elfFacts(kind.kind, elf, mode) };
  } finally {
    await handle.close();
  }
}

/** Compiles with the host's gcc (Debian 12: PIE and partial RELRO by default, GNU build-id, new DTAGS). */
async function cc(output: string, ...flags: string[]): Promise<void> {
  await run('gcc', ['-O1', '-o', path.join(dir, output), ...flags], { cwd: dir });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-elf-facts-'));
  await writeFile(path.join(dir, 'main.c'), 'int greet(void);\nint main(void) { return greet(); }\n');
  await writeFile(path.join(dir, 'greet.c'), 'int greet(void) { return 0; }\n');
  await writeFile(path.join(dir, 'alone.c'), 'int main(void) { return 0; }\n');
  await cc('libgreet.so.1', '-shared', '-fPIC', '-Wl,-soname,libgreet.so.1', 'greet.c');
  const linked = ['main.c', '-L.', '-l:libgreet.so.1'];
  await Promise.all([
    cc('default', ...linked),
    cc('now', '-Wl,-z,now', ...linked),
    cc('norelro', '-Wl,-z,norelro', ...linked),
    cc('nopie', '-no-pie', ...linked),
    cc('stripped', '-s', ...linked),
    cc('runpath', '-Wl,-rpath,/opt/greet/lib', ...linked),
    cc('rpath', '-Wl,--disable-new-dtags,-rpath,/opt/old/lib', ...linked),
    cc('execstack', '-Wl,-z,execstack', ...linked),
    cc('static', '-static', 'alone.c'),
    cc('nobuildid', '-Wl,--build-id=none', 'alone.c'),
  ]);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ELF facts of binaries gcc makes here', () => {
  test("the compiler's defaults: PIE, partial RELRO, lazy binding, a non-executable stack, symbols, a build-id", async () => {
    const facts = await factsOf('default');
    expect(facts).toMatchObject({
      kind: 'executable',
      linkage: 'dynamic',
      pie: true,
      relro: 'partial',
      bindNow: false,
      nxStack: true,
      stripped: false,
    });
    expect(facts.buildId).toMatch(/^[0-9a-f]{40}$/);
    expect(facts).not.toHaveProperty('runpath');
    expect(facts).not.toHaveProperty('setuid');
  });

  test('-z now: full RELRO and BIND_NOW; -z norelro: none', async () => {
    expect(await factsOf('now')).toMatchObject({ relro: 'full', bindNow: true });
    expect(await factsOf('norelro')).toMatchObject({ relro: 'none', bindNow: false });
  });

  test('-no-pie, -s, -z execstack', async () => {
    expect(await factsOf('nopie')).toMatchObject({ kind: 'executable', linkage: 'dynamic', pie: false });
    expect(await factsOf('stripped')).toMatchObject({ stripped: true, pie: true });
    expect(await factsOf('execstack')).toMatchObject({ nxStack: false });
  });

  test('RUNPATH, and the older RPATH, are both reported as runpath', async () => {
    expect((await factsOf('runpath')).runpath).toBe('/opt/greet/lib');
    expect((await factsOf('rpath')).runpath).toBe('/opt/old/lib');
  });

  test('a shared library: its SONAME, no pie', async () => {
    const facts = await factsOf('libgreet.so.1', 0o644);
    expect(facts).toMatchObject({ kind: 'shared-library', soname: 'libgreet.so.1', relro: 'partial' });
    expect(facts).not.toHaveProperty('pie');
  });

  test('a static executable, one without a build-id, and setuid/setgid from the mode', async () => {
    expect(await factsOf('static')).toMatchObject({ kind: 'executable', linkage: 'static', pie: false });
    expect(await factsOf('nobuildid')).not.toHaveProperty('buildId');
    expect(await factsOf('default', 0o4755)).toMatchObject({ setuid: true });
    expect(await factsOf('default', 0o2755)).toMatchObject({ setgid: true });
    expect(elfFacts('other', null, 0o4755)).toEqual({ setuid: true });
  });
});
