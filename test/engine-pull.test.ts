/**
 * Pulling an image that is not on the host, from a real registry: Debian's
 * docker-registry (the distribution registry) on a loopback port of the
 * test's own, which the Docker engine trusts over plain http by default.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
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
