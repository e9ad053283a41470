import { readFileSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from '@kiln/shared';
import type { InstalledFile } from '@kiln/shared';
import { EngineHarness, logText, run, sha256sums } from './fixtures/engine/harness.js';

// Real Debian images and real C code: the .buildr.yml sample as it is, an
// upstream library (zlib, Debian's source package) and a static tool.
const h = new EngineHarness();
const FIXTURES = path.resolve('test/fixtures/engine');
const BUILD_IMAGE = 'kiln/bookworm-build:latest';

afterEach(async () => {
  expect(await h.leftovers()).toEqual([]);
});

afterAll(async () => {
  await h.dispose();
});

/** The sample of shared/reference/buildr-manifest.md, byte for byte. */
const BUILDR_SAMPLE = readFileSync(new URL('./fixtures/buildr-sample.yml', import.meta.url), 'utf8');

// gcc comes from prepare (the image has none); without libc6-dev (not
// installed by the sample) it can compile but not link, so: an object file.
const SAMPLE_MAKEFILE = `all:
\tmkdir -p build
\tgcc -O2 -c -o build/answer.o answer.c
\techo "$$GREETING" > build/greeting.txt

check: all
\ttest -s build/answer.o && echo "compiled by $$(gcc -dumpfullversion)"
\ttest "$$(cat build/greeting.txt)" = "hello world"
\techo "token is $$TOKEN"
`;

describe('the .buildr.yml sample, unmodified', () => {
  test('prepare installs the compiler, build and package use it, the workspace carries the result', async () => {
    const workspace = await h.workspace({
      '.buildr.yml': BUILDR_SAMPLE,
      Makefile: SAMPLE_MAKEFILE,
      'answer.c': 'int answer(void) { return 42; }\n',
    });
    const manifest = await readManifest(workspace);
    expect(manifest.file).toBe('.buildr.yml');
    // apt-get in prepare needs Debian's mirror: through Kiln's isolated network.
    const engine = h.engine({ network: 'isolated', memoryBytes: 1024 ** 3 });
    const out = await engine.build({
      buildId: crypto.randomUUID(),
      workspace,
      repo: '/srv/git/sample',
      manifest,
      package: { name: 'sample', version: '1.0' },
    });
    expect(out.report.error).toBeNull();
    expect(out.report.status).toBe('succeeded');
    expect(out.report.stages.map((s) => [s.name, s.status, s.commands.map((c) => c.command)])).toEqual([
      ['prepare', 'succeeded', ['apt-get update && apt-get install -y --no-install-recommends make gcc']],
      ['build', 'succeeded', ['make all', 'make check']],
      ['package', 'succeeded', ['tar czf dist.tar.gz build/']],
    ]);
    const build = logText(out.log, { stage: 'build', stream: 'stdout' });
    expect(build).toMatch(/compiled by 12\.\d/);
    expect(build).toContain('token is ***\n');
    expect(JSON.stringify(out)).not.toContain('s3cr3t-value');
    const { stdout } = await run('tar', ['tzf', path.join(workspace, 'dist.tar.gz')]);
    expect(stdout.split('\n').sort()).toEqual(['', 'build/', 'build/answer.o', 'build/greeting.txt']);

    // The next build of the same manifest starts from the cached compiler image.
    const workspace2 = await h.workspace({
      '.buildr.yml': BUILDR_SAMPLE,
      Makefile: SAMPLE_MAKEFILE,
      'answer.c': 'int answer(void) { return 7; }\n',
    });
    const again = await engine.build({
      buildId: crypto.randomUUID(),
      workspace: workspace2,
      repo: '/srv/git/sample',
      manifest,
      package: { name: 'sample', version: '1.1' },
    });
    expect(again.report.status).toBe('succeeded');
    expect(again.report.stages[0]).toMatchObject({ name: 'prepare', cached: true, commands: [] });
  }, 600_000);
});

describe('an upstream C library: zlib from Debian (zlib_1.2.13.dfsg.orig.tar.bz2)', () => {
  test('its shared library, static library, headers and symlinks are classified and hashed right', async () => {
    const workspace = await h.workspace();
    await copyFile(path.join(FIXTURES, 'zlib_1.2.13.dfsg.orig.tar.bz2'), path.join(workspace, 'zlib.tar.bz2'));
    const manifest = `image: ${BUILD_IMAGE}
stages: [build, test]
build:
  script:
    - tar xjf zlib.tar.bz2
    - cd zlib-1.2.13.dfsg
    - ./configure --prefix=/usr
    - make -j2
test:
  script: ["cd zlib-1.2.13.dfsg && make test"]
install:
  script: ['cd zlib-1.2.13.dfsg && make install DESTDIR="$DESTDIR"']
`;
    const artifacts = await h.tempDir();
    const out = await h.build(h.engine({ cpus: 2, memoryBytes: 1024 ** 3 }), manifest, workspace, {
      artifactDir: artifacts,
      package: { name: 'zlib', version: '1.2.13' },
    });
    expect(out.report.error).toBeNull();
    expect(logText(out.log, { stage: 'test', stream: 'stdout' })).toContain('*** zlib test OK ***');
    const files = Object.fromEntries(out.report.install!.files.map((f) => [f.path, f]));
    expect(Object.keys(files).sort()).toEqual([
      '/usr/include/zconf.h',
      '/usr/include/zlib.h',
      '/usr/lib/libz.a',
      '/usr/lib/libz.so',
      '/usr/lib/libz.so.1',
      '/usr/lib/libz.so.1.2.13',
      '/usr/lib/pkgconfig/zlib.pc',
      '/usr/share/man/man3/zlib.3',
    ]);
    expect(files['/usr/lib/libz.so.1.2.13']).toMatchObject({
      kind: 'shared-library',
      linkage: 'dynamic',
      needed: ['libc.so.6'],
      mode: '0755',
    });
    // ELF facts as the compiler made them, checked against binutils' readelf on the file the build left behind.
    const built = path.join(workspace, 'zlib-1.2.13.dfsg', 'libz.so.1.2.13');
    const segments = (await run('readelf', ['-lW', built])).stdout;
    const dynamic = (await run('readelf', ['-dW', built])).stdout;
    const bindNow = /\(BIND_NOW\)|Flags: .*\bNOW\b|\(FLAGS\).*BIND_NOW/.test(dynamic);
    expect(files['/usr/lib/libz.so.1.2.13']).toMatchObject({
      soname: 'libz.so.1',
      relro: segments.includes('GNU_RELRO') ? (bindNow ? 'full' : 'partial') : 'none',
      bindNow,
      nxStack: /GNU_STACK.*\sRW\s/.test(segments),
      stripped: !(await run('readelf', ['-SW', built])).stdout.includes('.symtab'),
    });
    expect(files['/usr/lib/libz.so.1.2.13']).not.toHaveProperty('pie');
    expect(files['/usr/lib/libz.a']).toMatchObject({ kind: 'static-library', mode: '0644' });
    expect(files['/usr/lib/libz.a']!.linkage).toBeUndefined();
    expect(files['/usr/include/zlib.h']).toMatchObject({ kind: 'other', mode: '0644' });
    expect(files['/usr/lib/libz.so']).toMatchObject({ kind: 'symlink', target: 'libz.so.1.2.13' });
    expect(files['/usr/lib/libz.so.1']).toMatchObject({ kind: 'symlink', target: 'libz.so.1.2.13' });
    expect(out.report.install!.sizeBytes).toBe(Object.values(files).reduce((sum, f) => sum + f.size, 0));

    // sha256 as sha256sum computes it: on the files the build left in the
    // workspace (what `make install` copied), and on the artifact's content.
    const sums = await sha256sums(path.join(workspace, 'zlib-1.2.13.dfsg'));
    expect(files['/usr/lib/libz.a']!.sha256).toBe(sums['/libz.a']);
    expect(files['/usr/lib/libz.so.1.2.13']!.sha256).toBe(sums['/libz.so.1.2.13']);
    expect(files['/usr/include/zlib.h']!.sha256).toBe(sums['/zlib.h']);
    const extracted = await h.tempDir();
    await run('tar', ['xf', out.report.install!.artifact!.path, '-C', extracted]);
    expect(await sha256sums(extracted)).toEqual(hashesOf(out.report.install!.files));
  }, 300_000);
});

describe('a static tool with a config file, installed by a Makefile that ignores DESTDIR (examples/hello-cli)', () => {
  test('the executable is static, the file under /etc is config, both found where they were written', async () => {
    const example = path.resolve('examples/hello-cli');
    const workspace = await h.workspace({
      Makefile: await readFile(path.join(example, 'Makefile'), 'utf8'),
      'hello.c': await readFile(path.join(example, 'hello.c'), 'utf8'),
      'hello.conf': await readFile(path.join(example, 'hello.conf'), 'utf8'),
    });
    const manifest = `image: ${BUILD_IMAGE}\nstages: [build]\nbuild: {script: [make, "./hello --version"]}\ninstall: {script: [make install]}\n`;
    const artifacts = await h.tempDir();
    const out = await h.build(h.engine(), manifest, workspace, { artifactDir: artifacts });
    expect(out.report.error).toBeNull();
    expect(out.report.install!.files).toEqual([
      expect.objectContaining({ path: '/etc/hello-cli/hello.conf', kind: 'config', mode: '0644', size: 6 }),
      expect.objectContaining({ path: '/usr/local/bin/hello', kind: 'executable', linkage: 'static', mode: '0755' }),
    ]);
    const built = await sha256sums(workspace);
    expect(out.report.install!.files[1]!.sha256).toBe(built['/hello']);
    const extracted = await h.tempDir();
    await run('tar', ['xf', out.report.install!.artifact!.path, '-C', extracted]);
    expect(await sha256sums(extracted)).toEqual(hashesOf(out.report.install!.files));
  }, 120_000);
});

function hashesOf(files: InstalledFile[]): Record<string, string> {
  return Object.fromEntries(files.filter((f) => f.sha256).map((f) => [f.path, f.sha256!]));
}
