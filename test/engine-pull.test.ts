/**
 * Pulling an image that is not on the host, from a real registry: Debian's
 * docker-registry (the distribution registry) on a loopback port of the
 * test's own, which the Docker engine trusts over plain http by default.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { buffer } from 'node:stream/consumers';
import tarStream from 'tar-stream';
import { EngineHarness, logText } from './fixtures/engine/harness.js';
import { freePort } from './helpers/index.js';

const run = promisify(execFile);
const h = new EngineHarness();
let registry: ChildProcess;
let dir: string;
let image: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-registry-'));
  const port = await freePort();
  await writeFile(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  registry = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // An image that exists only in the registry: pushed there, then removed here.
  image = `127.0.0.1:${port}/kiln-pull-test:${randomBytes(4).toString('hex')}`;
  await run('docker', ['tag', 'kiln/busybox:latest', image]);
  await run('docker', ['push', image]);
  await run('docker', ['rmi', image]);
}, 60_000);

afterAll(async () => {
  await run('docker', ['rmi', '-f', image]).catch(() => undefined);
  registry?.kill();
  await rm(dir, { recursive: true, force: true });
  await h.dispose();
});

test('an image missing here is pulled from the registry, with progress in the log, and used', async () => {
  await expect(run('docker', ['image', 'inspect', image])).rejects.toThrow();
  const out = await h.build(
    h.engine(),
    `image: ${image}\nstages: [build]\nbuild: {script: ["echo built on the pulled image"]}\n`,
    await h.workspace(),
  );
  expect(out.report.status).toBe('succeeded');
  expect(logText(out.log, { stream: 'system' })).toContain(`pulling ${image}`);
  expect(logText(out.log, { stream: 'stdout' })).toContain('built on the pulled image');
  await run('docker', ['image', 'inspect', image]);
  expect(await h.leftovers()).toEqual([]);
}, 60_000);

test('an image the registry does not have fails the build with the reason', async () => {
  const missing = `${image.slice(0, image.lastIndexOf(':'))}:not-there`;
  const out = await h.build(
    h.engine(),
    `image: ${missing}\nstages: [build]\nbuild: {script: ["true"]}\n`,
    await h.workspace(),
  );
  expect(out.report.status).toBe('errored');
  expect(out.report.error).toContain(`image ${missing} is not on this host and could not be pulled`);
}, 60_000);

/**
 * A multi-arch image, pushed to the registry as the registry API takes it:
 * one tiny image per arch (its config names the arch; its layer holds a file
 * saying it), and a manifest list over both.
 */
async function pushMultiArch(repository: string, tag: string, archs: string[]): Promise<void> {
  const registry = `http://${repository.slice(0, repository.indexOf('/'))}`;
  const name = repository.slice(repository.indexOf('/') + 1);
  const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const blob = async (data: Buffer) => {
    const start = await fetch(`${registry}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, registry);
    location.searchParams.set('digest', sha(data));
    const put = await fetch(location, {
      method: 'PUT',
      body: new Uint8Array(data),
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return { digest: sha(data), size: data.length };
  };
  const manifest = async (reference: string, mediaType: string, body: object) => {
    const data = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, ...body }));
    const put = await fetch(`${registry}/v2/${name}/manifests/${reference}`, {
      method: 'PUT',
      body: new Uint8Array(data),
      headers: { 'content-type': mediaType },
    });
    if (put.status !== 201) throw new Error(`manifest upload: ${put.status} ${await put.text()}`);
    return { digest: sha(data), size: data.length, mediaType };
  };
  const entries = [];
  for (const arch of archs) {
    const tar = await tarOf({ arch: `${arch}\n` });
    const layer = await blob(gzipSync(tar));
    const config = await blob(
      Buffer.from(
        JSON.stringify({
          architecture: arch,
          os: 'linux',
          config: {},
          rootfs: { type: 'layers', diff_ids: [sha(tar)] },
        }),
      ),
    );
    const image = await manifest(`${tag}-${arch}-only`, 'application/vnd.docker.distribution.manifest.v2+json', {
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...layer }],
    });
    entries.push({ ...image, platform: { architecture: arch, os: 'linux' } });
  }
  await manifest(tag, 'application/vnd.docker.distribution.manifest.list.v2+json', { manifests: entries });
}

function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  return buffer(pack);
}

describe('a multi-arch image', () => {
  let multi: string;
  const archOf = async (ref: string) =>
    (await run('docker', ['image', 'inspect', '-f', '{{.Architecture}}', ref])).stdout.trim();
  // No stage runs (these images have no shell): the image is resolved, and the build ends.
  const manifest = () => `image: ${multi}\nstages: []\n`;

  beforeAll(async () => {
    multi = `${image.slice(0, image.lastIndexOf('/'))}/kiln-multi-arch:${randomBytes(4).toString('hex')}`;
    await pushMultiArch(multi.slice(0, multi.lastIndexOf(':')), multi.slice(multi.lastIndexOf(':') + 1), [
      'amd64',
      'arm64',
    ]);
  });
  afterAll(async () => {
    for (const ref of [multi, `${multi}-arm64`]) await run('docker', ['rmi', '-f', ref]).catch(() => undefined);
  });

  test("is pulled as the build arch's variant, named for it, without taking the image's own name", async () => {
    const out = await h.build(h.engine(), manifest(), await h.workspace(), { arch: 'arm64' });
    expect(out.report.error).toBeNull();
    expect(out.report).toMatchObject({ status: 'succeeded', arch: 'arm64', emulated: true });
    expect(logText(out.log, { stream: 'system' })).toContain(`pulling ${multi} for linux/arm64`);
    expect(await archOf(`${multi}-arm64`)).toBe('arm64');
    await expect(run('docker', ['image', 'inspect', multi])).rejects.toThrow();
  }, 60_000);

  test("the host's variant keeps the image's name; a later arm64 build uses its local variant", async () => {
    const native = await h.build(h.engine(), manifest(), await h.workspace());
    expect(native.report.status).toBe('succeeded');
    expect(await archOf(multi)).toBe('amd64');
    const again = await h.build(h.engine(), manifest(), await h.workspace(), { arch: 'arm64' });
    expect(again.report.status).toBe('succeeded');
    const system = logText(again.log, { stream: 'system' });
    expect(system).toContain(`using ${multi}-arm64 for arm64`);
    expect(system).not.toContain('pulling');
    expect(await archOf(multi)).toBe('amd64');
  }, 60_000);
});
