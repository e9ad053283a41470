import { randomBytes } from 'node:crypto';
import { open, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  DESTDIR_PATH,
  DockerRuntime,
  PayloadTooLargeError,
  WORKSPACE_PATH,
  streamPayload,
  type PayloadProgress,
  type StageContainer,
} from '@kiln/agent';
import type { ArtifactFormat, InstalledFile } from '@kiln/shared';
import { EngineHarness, logText, run, sha256sums } from './fixtures/engine/harness.js';

// The install's payload read once from the container: hashed, classified and
// packed in one stream, against the real Docker engine.
const h = new EngineHarness();

afterEach(async () => {
  expect(await h.leftovers()).toEqual([]);
});

afterAll(async () => {
  await h.dispose();
});

const IMAGE = 'kiln/busybox:latest';
const LONG = 'a-directory-name-long-enough-that-its-path-needs-a-pax-header-in-the-tar';
const PAYLOAD = `image: ${IMAGE}
environment: {vars: [LONG=${LONG}]}
stages: [build]
build: {script: ["true"]}
install:
  script:
    - mkdir -p "$DESTDIR/usr/bin" "$DESTDIR/usr/share/p/$LONG" "$DESTDIR/opt/data" /usr/local/bin
    - cp /bin/busybox "$DESTDIR/usr/bin/tool" && chmod 4755 "$DESTDIR/usr/bin/tool"
    - ln "$DESTDIR/usr/bin/tool" "$DESTDIR/usr/bin/tool-hard" && ln -s tool "$DESTDIR/usr/bin/tool-link"
    - head -c 3000001 /dev/urandom > "$DESTDIR/opt/data/big" && touch "$DESTDIR/opt/data/empty" && printf x > "$DESTDIR/opt/data/one"
    - for i in $(seq 1 150); do head -c $((i * 373)) /dev/urandom > "$DESTDIR/opt/data/f$i"; done
    - echo deep > "$DESTDIR/usr/share/p/$LONG/file-$LONG" && cp /bin/busybox /usr/local/bin/outside
    - cd "$DESTDIR" && find . -type f -exec sha256sum {} + && sha256sum /usr/local/bin/outside
`;

/** What the install stage's own `sha256sum` printed, by installed path. */
function sums(log: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of log.trim().split('\n')) out[line.slice(66).replace(/^\.\//, '/')] = line.slice(0, 64);
  return out;
}

/** Everything but directories under `dir`, as installed paths. */
async function extractedPaths(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => `/${path.relative(dir, path.join(e.parentPath, e.name))}`)
    .sort();
}

async function magic(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return buffer.toString('hex');
  } finally {
    await handle.close();
  }
}

describe.each<[ArtifactFormat, string]>([
  ['tar.zst', '28b52ffd'],
  ['tar.gz', '1f8b08'],
])('a payload packed as %s', (format, magicBytes) => {
  test('every recorded sha256 is sha256sum’s; the artifact extracts to exactly the recorded files', async () => {
    const progress: PayloadProgress[] = [];
    const artifacts = await h.tempDir();
    const out = await h.build(h.engine(), PAYLOAD, await h.workspace(), {
      artifactDir: artifacts,
      artifactFormat: format,
      events: { payload: (p) => progress.push(p) },
    });
    expect([out.report.status, out.report.error]).toEqual(['succeeded', null]);
    const install = out.report.install!;
    const files = Object.fromEntries(install.files.map((f) => [f.path, f]));
    const hashed = install.files.filter((f) => f.sha256);
    const expected = sums(logText(out.log, { stage: 'install', stream: 'stdout' }));
    expect(Object.fromEntries(hashed.map((f) => [f.path, f.sha256]))).toEqual(expected);
    expect(hashed).toHaveLength(157);
    expect(files['/usr/bin/tool']).toMatchObject({ kind: 'executable', linkage: 'static', mode: '4755' });
    expect(files['/usr/bin/tool-hard']).toMatchObject({ sha256: files['/usr/bin/tool']!.sha256, mode: '4755' });
    expect(files['/usr/bin/tool-link']).toMatchObject({ kind: 'symlink', target: 'tool' });
    expect(files['/opt/data/empty']).toMatchObject({ size: 0, kind: 'other' });

    // The artifact: its format named, its bytes that format's, its sha256 the file's.
    const artifact = install.artifact!;
    expect(artifact.format).toBe(format);
    expect(artifact.path.endsWith(`.${format}`)).toBe(true);
    expect((await magic(artifact.path)).startsWith(magicBytes)).toBe(true);
    expect((await run('sha256sum', [artifact.path])).stdout.slice(0, 64)).toBe(artifact.sha256);
    // Beside the artifact only its SBOM (no signing key here, so no provenance).
    const sbom = `${path.basename(artifact.path).slice(0, -`.${format}`.length)}.cdx.json`;
    expect((await readdir(artifacts)).sort()).toEqual([path.basename(artifact.path), sbom].sort());
    const extracted = await h.tempDir();
    await run('tar', ['xf', artifact.path, '-C', extracted]);
    expect(await extractedPaths(extracted)).toEqual(install.files.map((f) => f.path));
    expect(await sha256sums(extracted)).toEqual(expected);
    expect(await readlink(path.join(extracted, 'usr/bin/tool-link'))).toBe('tool');
    for (const file of hashed as InstalledFile[]) {
      const mode = ((await stat(path.join(extracted, file.path))).mode & 0o7777).toString(8).padStart(4, '0');
      expect([file.path, mode]).toEqual([file.path, file.mode]);
    }

    // Progress: from nothing read to every content byte (a hard link's once), then done.
    const content = hashed.filter((f) => f.path !== '/usr/bin/tool-hard').reduce((sum, f) => sum + f.size, 0);
    expect(progress[0]).toMatchObject({ bytesDone: 0, files: 0, done: false });
    expect(progress.at(-1)).toMatchObject({ bytesDone: content, files: install.files.length, done: true });
    expect(progress.at(-1)!.bytesTotal).toBeGreaterThanOrEqual(content);
  }, 60_000);
});

describe('the payload limit', () => {
  const runtime = new DockerRuntime(h.docker);
  const paths = {
    destdir: DESTDIR_PATH,
    kilnDir: path.posix.dirname(DESTDIR_PATH),
    workspace: WORKSPACE_PATH,
    mountTargets: [],
  };
  let container: StageContainer;

  beforeAll(async () => {
    // 3 MB of payload, 5 MB of scratch space beside it: Docker counts 8 MB written.
    container = await runtime.create({
      name: `kiln-payload-test-${randomBytes(4).toString('hex')}`,
      image: IMAGE,
      entrypoint: ['sh', '-c'],
      command: [
        `mkdir -p ${DESTDIR_PATH}/opt && head -c 3000000 /dev/urandom > ${DESTDIR_PATH}/opt/big && ` +
          `echo small > ${DESTDIR_PATH}/opt/small && head -c 5000000 /dev/urandom > /tmp/scratch`,
      ],
      workingDir: '/',
      labels: {},
      mounts: [],
      stdin: false,
      memoryBytes: 256 * 1024 ** 2,
      cpus: 1,
      pids: 64,
      network: 'none',
    });
    await container.start();
    expect(await container.wait()).toMatchObject({ exitCode: 0 });
  }, 30_000);

  afterAll(async () => {
    await container.remove();
  });

  test('over the limit: refused before any content is read, with the size and the limit named, nothing written', async () => {
    const dir = await h.tempDir();
    const progress: PayloadProgress[] = [];
    const refused = streamPayload(container, {
      ...paths,
      limitBytes: 2_000_000,
      artifact: { file: path.join(dir, 'p.tar.zst'), format: 'tar.zst' },
      onProgress: (p) => progress.push(p),
    });
    await expect(refused).rejects.toThrow(PayloadTooLargeError);
    await expect(refused).rejects.toThrow(
      "the install's payload is more than 2.9 MiB, over the payload limit of 1.9 MiB (KILN_PAYLOAD_LIMIT): it was not inspected or packed",
    );
    expect(progress).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  test('Docker counts scratch files too: a payload under the limit with more written beside it passes', async () => {
    expect(await container.writtenBytes()).toBeGreaterThan(8_000_000);
    const payload = await streamPayload(container, { ...paths, limitBytes: 4_000_000 });
    expect(payload.files.map((f) => [f.path, f.size])).toEqual([
      ['/opt/big', 3_000_000],
      ['/opt/small', 6],
    ]);
  });

  test('cancelled: stops, and leaves no partial artifact', async () => {
    const dir = await h.tempDir();
    const controller = new AbortController();
    const cancelled = streamPayload(container, {
      ...paths,
      artifact: { file: path.join(dir, 'p.tar.gz'), format: 'tar.gz' },
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop')),
    });
    await expect(cancelled).rejects.toThrow('stop');
    expect(await readdir(dir)).toEqual([]);
  });
});
