import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import Docker from 'dockerode';
import type { BuildReport } from '@kiln/shared';
import { runCli } from '../src/cli/main.js';
import { kilnCommand } from './helpers/cli.js';
import { EngineHarness } from './fixtures/engine/harness.js';

// `kiln run`: the engine behind the command line, with no broker and no database.
const h = new EngineHarness();
const docker = new Docker();

afterEach(async () => {
  expect(await h.leftovers()).toEqual([]);
});

afterAll(async () => {
  await h.dispose();
});

async function kiln(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'kiln', ...args], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    isTty: false,
    env: { KILN_NETWORK: 'none', KILN_ARTIFACT_DIR: await h.tempDir(), KILN_WORK_DIR: await h.tempDir(), ...env },
  });
  return { code, out, err };
}

const INSTALLING = `image: kiln/busybox:latest
package: {name: demo, version: 2.1.0}
stages: [build]
build:
  script:
    - echo compiling
    - cp /bin/busybox demo
install:
  script: ['mkdir -p "$DESTDIR/usr/bin" && cp demo "$DESTDIR/usr/bin/demo" && ln -s demo "$DESTDIR/usr/bin/dm"']
`;

describe('kiln run', () => {
  test('--json prints the build report and nothing else; exit 0', async () => {
    const dir = await h.workspace({ '.kiln.yml': INSTALLING });
    const scratch = await h.tempDir();
    const { code, out, err } = await kiln(['run', dir, '--json'], { KILN_WORK_DIR: scratch });
    expect(err).toBe('');
    const report = JSON.parse(out) as BuildReport;
    expect(code).toBe(0);
    expect(report).toMatchObject({ status: 'succeeded', package: { name: 'demo', version: '2.1.0' }, error: null });
    expect(report.stages.map((s) => [s.name, s.status])).toEqual([
      ['build', 'succeeded'],
      ['install', 'succeeded'],
    ]);
    expect(report.install!.files.map((f) => [f.path, f.kind])).toEqual([
      ['/usr/bin/demo', 'executable'],
      ['/usr/bin/dm', 'symlink'],
    ]);
    expect(report.install!.artifact).toMatchObject({
      format: 'tar.gz',
      path: expect.stringMatching(/demo-2\.1\.0-.*\.tar\.gz$/),
    });
    // The build ran in a copy: the checkout has no build output, and no scratch copy is left.
    expect(await readdir(dir)).toEqual(['.kiln.yml']);
    expect(await readdir(scratch)).toEqual([]);
  }, 30_000);

  test('KILN_ARTIFACT_FORMAT=tar.gz: the artifact is a .tar.gz, and the report says so', async () => {
    const dir = await h.workspace({ '.kiln.yml': INSTALLING });
    const { code, out } = await kiln(['run', dir, '--json'], { KILN_ARTIFACT_FORMAT: 'tar.gz' });
    expect(code).toBe(0);
    const artifact = (JSON.parse(out) as BuildReport).install!.artifact!;
    expect(artifact).toMatchObject({ format: 'tar.gz', path: expect.stringMatching(/demo-2\.1\.0-.*\.tar\.gz$/) });
  }, 30_000);

  test('--in-place builds in the checkout itself', async () => {
    const dir = await h.workspace({ '.kiln.yml': INSTALLING });
    const { code } = await kiln(['run', dir, '--in-place', '--json']);
    expect(code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['.kiln.yml', 'demo']);
  }, 30_000);

  test('for a person: progress on stderr as it happens, the report with stages and files on stdout', async () => {
    const dir = await h.workspace({ '.kiln.yml': INSTALLING });
    const { code, out, err } = await kiln(['run', dir]);
    expect(code).toBe(0);
    expect(err).toContain(
      '==> build (kiln/busybox:latest)\n$ echo compiling\ncompiling\n$ cp /bin/busybox demo\n<== build succeeded in ',
    );
    expect(err).toContain('==> install');
    expect(out).toMatch(/^demo 2\.1\.0: succeeded in /);
    expect(out).toMatch(/build\s+succeeded\s+\S+/);
    expect(out).toMatch(/\u2713 echo compiling/);
    expect(out).toMatch(/\/usr\/bin\/demo\s+executable\s+1\.9 MiB\s+0755\s+[0-9a-f]{64}\s+static/);
    expect(out).toMatch(/\/usr\/bin\/dm\s+symlink\s+0777\s+-> demo/);
  }, 30_000);

  test('a failing build: exit 1, the report says where', async () => {
    const dir = await h.workspace({
      '.kiln.yml': 'image: kiln/busybox:latest\nstages: [build]\nbuild: {script: ["echo ok", "exit 5"]}\n',
    });
    const json = await kiln(['run', dir, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({
      status: 'failed',
      error: 'stage "build" failed at line 2 (exit 5): exited 5',
    });
    const human = await kiln(['run', dir]);
    expect(human.code).toBe(1);
    expect(human.out).toContain('error: stage "build" failed at line 2 (exit 5): exited 5');
    expect(human.out).toMatch(/\u2717 exit 5\s+exit 5/);
  }, 30_000);

  test('an invalid manifest: exit 2, one line per problem with its line number', async () => {
    const dir = await h.workspace({
      '.buildr.yml': 'image: debian:bookworm\nstages:\n  - build\n  - deploy\nbuild:\n  script: [make]\nextra: 1\n',
    });
    const { code, out, err } = await kiln(['run', dir]);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')).toEqual([
      'kiln: .buildr.yml: stages[1]: stage "deploy" is listed but not defined (line 4)',
      'kiln: .buildr.yml: extra: unknown key "extra" (not a manifest key, nor a stage listed in stages) (line 7)',
      '',
    ]);
    const json = await kiln(['run', dir, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out)).toMatchObject({
      status: 'errored',
      error: expect.stringContaining('stage "deploy" is listed but not defined'),
    });
  });

  test('usage errors: exit 2', async () => {
    expect(await kiln(['run', '/nonexistent/checkout'])).toMatchObject({
      code: 2,
      err: 'kiln: /nonexistent/checkout is not a directory: give the path of a checkout\n',
    });
    const noManifest = await kiln(['run', await h.workspace({ README: 'x' })]);
    expect(noManifest.code).toBe(2);
    expect(noManifest.err).toContain('no manifest found: add .kiln.yml or .buildr.yml');
    expect((await kiln(['run', '--no-such-option'])).code).toBe(2);
  });

  test('Ctrl-C stops the build, leaves no container behind, exit 130', async () => {
    const dir = await h.workspace({
      '.kiln.yml': 'image: kiln/busybox:latest\nstages: [long]\nlong: {script: ["echo waiting", "sleep 600"]}\n',
    });
    const child = spawn(...kilnCommand('run', dir), {
      env: { ...process.env, KILN_NETWORK: 'none', KILN_ARTIFACT_DIR: await h.tempDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        if (err.includes('$ sleep 600')) resolve();
      });
    });
    const label = [`kiln.owner-pid=${child.pid}`];
    expect((await docker.listContainers({ all: true, filters: { label } })).length).toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toContain('kiln: stopping the build and removing its containers');
    expect(await docker.listContainers({ all: true, filters: { label } })).toEqual([]);
  }, 60_000);
});
