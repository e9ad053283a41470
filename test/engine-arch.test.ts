/**
 * Builds for an arch: real Docker, and qemu-user through binfmt_misc for
 * arm64 (scripts/setup.sh registers the emulators and imports the arm64
 * base images as `<repo>:<tag>-arm64`, labelled org.kiln.arch=arm64).
 * examples/libgreet is built once natively and once for arm64 with
 * `kiln run --arch arm64`; the machine check runs on a payload with the
 * host's /bin/true copied into it. Emulated compiles are slow: one, tiny.
 */
import { cp, copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { debianHostArch, type BuildReport, type InstalledFile } from '@kiln/shared';
import { runCli } from '../src/cli/main.js';
import { EngineHarness, logText, run } from './fixtures/engine/harness.js';

const h = new EngineHarness();
const HOST = debianHostArch();

afterEach(async () => {
  expect(await h.leftovers()).toEqual([]);
});
afterAll(() => h.dispose());

/** libgreet, built without its test stage (each emulated compile costs seconds). */
const LIBGREET = `image: kiln/bookworm-build:latest
package: {name: libgreet, version: 1.2.0}
stages: [build]
build: {script: ["uname -m", "make -j2"]}
install: {script: ['make install PREFIX=/usr DESTDIR="$DESTDIR"']}
`;

async function libgreet(): Promise<string> {
  const dir = await h.workspace();
  await cp(path.resolve('examples/libgreet'), dir, { recursive: true });
  // The example's own manifest installs its compiler in prepare; this one starts from the build image.
  await writeFile(path.join(dir, '.kiln.yml'), LIBGREET);
  return dir;
}

async function kiln(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'kiln', ...args], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    isTty: false,
    env: { KILN_NETWORK: 'none', KILN_ARTIFACT_DIR: await h.tempDir(), KILN_WORK_DIR: await h.tempDir() },
  });
  return { code, out, err };
}

const library = (report: BuildReport): InstalledFile | undefined =>
  report.install?.files.find((f) => f.path === '/usr/lib/libgreet.so.1.2.0');

test('kiln run --arch arm64 builds libgreet under emulation: its .so is aarch64, dynamic, needing libc.so.6', async () => {
  const { code, out, err } = await kiln(['run', await libgreet(), '--arch', 'arm64', '--json']);
  expect(err).toBe('');
  const report = JSON.parse(out) as BuildReport;
  expect(report.error).toBeNull();
  expect(code).toBe(0);
  expect(report).toMatchObject({ status: 'succeeded', arch: 'arm64', emulated: true });
  expect(library(report)).toMatchObject({
    kind: 'shared-library',
    machine: 'aarch64',
    linkage: 'dynamic',
    needed: ['libc.so.6'],
    soname: 'libgreet.so.1',
  });
  // The static archive is no ELF file: no machine.
  expect(report.install?.files.find((f) => f.path === '/usr/lib/libgreet.a')?.machine).toBeUndefined();
}, 600_000);

test("a native build is the host's arch, not emulated, and its .so is x86-64", async () => {
  const out = await h.build(h.engine(), LIBGREET, await libgreet());
  expect(out.report.error).toBeNull();
  expect(out.report).toMatchObject({ status: 'succeeded', arch: HOST, emulated: false });
  expect(library(out.report)?.machine).toBe('x86-64');
  expect(logText(out.log, { stage: 'build', stream: 'stdout' })).toContain('x86_64');
}, 300_000);

/** The host's /bin/true, copied into the checkout and installed as it is. */
const COPIES_HOST_TRUE = (policy: string) => `image: debian:bookworm
package: {name: leaky, version: 1.0.0}
stages: []
${policy}install: {script: ['uname -m', 'install -D -m 0755 host-true "$DESTDIR/usr/bin/true"']}
`;

async function withHostTrue(manifest: string): Promise<string> {
  const dir = await h.workspace({ '.kiln.yml': manifest });
  await copyFile('/bin/true', path.join(dir, 'host-true'));
  return dir;
}

test('a host binary in an arm64 payload fails the machine check, naming the file', async () => {
  const manifest = COPIES_HOST_TRUE('');
  const out = await h.build(h.engine(), manifest, await withHostTrue(manifest), { arch: 'arm64' });
  expect(logText(out.log, { stage: 'install', stream: 'stdout' })).toContain('aarch64');
  expect(out.report).toMatchObject({ status: 'failed', arch: 'arm64', emulated: true, install: null });
  expect(out.report.failure?.stage).toBe('install');
  expect(out.report.error).toContain('/usr/bin/true (x86-64)');
  expect(out.report.error).toContain('arm64 (aarch64)');
}, 300_000);

test('with policy: {machine: warn} it passes, the file flagged and said in the log', async () => {
  const manifest = COPIES_HOST_TRUE('policy: {machine: warn}\n');
  const out = await h.build(h.engine(), manifest, await withHostTrue(manifest), { arch: 'arm64' });
  expect(out.report.error).toBeNull();
  expect(out.report.status).toBe('succeeded');
  expect(out.report.install?.files).toEqual([expect.objectContaining({ path: '/usr/bin/true', machine: 'x86-64' })]);
  expect(out.report.flags).toEqual([
    { path: '/usr/bin/true', rule: 'machine', message: 'is for x86-64, not aarch64 (arm64)' },
  ]);
  expect(logText(out.log, { stream: 'system' })).toContain('machine check (allowed): /usr/bin/true is for x86-64');
}, 300_000);

test('an image with no variant for the arch errors naming image and arch, and its local name is left alone', async () => {
  // Here only for amd64, from a registry that is not there.
  const image = `127.0.0.1:9/kiln-arch-test:${process.pid}`;
  await run('docker', ['tag', 'kiln/busybox:latest', image]);
  try {
    const before = (await run('docker', ['image', 'inspect', '-f', '{{.Id}}', image])).stdout;
    const out = await h.build(
      h.engine(),
      `image: ${image}\nstages: [build]\nbuild: {script: ["true"]}\n`,
      await h.workspace(),
      {
        arch: 'riscv64',
      },
    );
    expect(out.report.status).toBe('errored');
    expect(out.report.error).toContain(
      `image ${image} for riscv64: here it is for ${HOST}, and it could not be pulled`,
    );
    expect(out.report.stages).toEqual([]);
    expect((await run('docker', ['image', 'inspect', '-f', '{{.Id}}', image])).stdout).toBe(before);
  } finally {
    await run('docker', ['rmi', image]).catch(() => undefined);
  }
}, 120_000);

test('kiln run refuses an arch it does not know, naming the ones it does', async () => {
  const { code, err } = await kiln(['run', await h.workspace({ '.kiln.yml': LIBGREET }), '--arch', 'sparc']);
  expect(code).toBe(2);
  expect(err).toContain('--arch sparc is not an arch Kiln knows: use one of amd64, arm64');
});
