/**
 * What a build may not do, against the real Docker engine: read or poison
 * another repository's cache, start from another build's compiler image,
 * install more than the payload limit, or ship content the policy flags.
 */
import { EngineHarness, logText } from './fixtures/engine/harness.js';

const h = new EngineHarness();
const BUSYBOX = 'kiln/busybox:latest';
const DEBIAN = 'debian:bookworm';

afterEach(async () => {
  expect(await h.leftovers()).toEqual([]);
});
afterAll(async () => {
  await h.dispose();
});

describe('caches belong to a repository and package', () => {
  const cacheManifest = (note: string) =>
    [
      `image: ${BUSYBOX}`,
      'cache: [/cache]',
      'stages: [build]',
      'build:',
      '  script:',
      `    - ${JSON.stringify('echo "cache holds: $(cat /cache/note 2>/dev/null || echo nothing)"')}`,
      `    - echo ${note} > /cache/note`,
      '',
    ].join('\n');

  test('a repository naming itself after another package sees an empty cache and leaves the victim’s alone', async () => {
    const engine = h.engine();
    const victim = { repo: `/srv/git/victim-${process.pid}`, package: { name: 'libvictim', version: '1.0' } };
    const attacker = { repo: `/srv/git/attacker-${process.pid}`, package: { name: 'libvictim', version: '6.6' } };
    const first = await h.build(engine, cacheManifest('victim-data'), await h.workspace(), victim);
    expect(logText(first.log, { stream: 'stdout' })).toContain('cache holds: nothing');

    const poison = await h.build(engine, cacheManifest('POISON'), await h.workspace(), attacker);
    expect(poison.report.status).toBe('succeeded');
    expect(logText(poison.log, { stream: 'stdout' })).toContain('cache holds: nothing');

    const again = await h.build(engine, cacheManifest('victim-data'), await h.workspace(), victim);
    expect(logText(again.log, { stream: 'stdout' })).toContain('cache holds: victim-data');
    await h.removeCacheVolumes(
      [
        { repo: victim.repo, package: 'libvictim' },
        { repo: attacker.repo, package: 'libvictim' },
      ],
      ['/cache'],
    );
  }, 120_000);

  test('a manifest cannot start from a compiler image Kiln cached for another build', async () => {
    const engine = h.engine();
    const manifest = [
      `image: ${BUSYBOX}`,
      'prepare:',
      '  script: ["echo private > /opt-secret"]',
      'stages: [build]',
      'build:',
      '  script: ["true"]',
      '',
    ].join('\n');
    const made = await h.build(engine, manifest, await h.workspace(), { repo: '/srv/git/owner' });
    expect(made.report.status).toBe('succeeded');
    const [cached] = await h.cacheImages();
    expect(cached).toBeDefined();

    const thief = [`image: ${cached}`, 'stages: [build]', 'build:', '  script: ["cat /opt-secret"]', ''].join('\n');
    const stolen = await h.build(engine, thief, await h.workspace(), { repo: '/srv/git/thief' });
    expect(stolen.report.status).toBe('errored');
    expect(stolen.report.error).toMatch(/is a compiler image Kiln cached for a build/);
    expect(logText(stolen.log, { stream: 'stdout' })).not.toContain('private');
  }, 120_000);
});

describe('the payload limit', () => {
  const installing = (mib: number) =>
    [
      `image: ${BUSYBOX}`,
      'stages: []',
      'install:',
      '  script:',
      `    - mkdir -p "$DESTDIR/opt" && dd if=/dev/zero of="$DESTDIR/opt/blob" bs=1048576 count=${mib} 2>/dev/null`,
      '',
    ].join('\n');

  test('a payload over the limit fails the build, naming its size and the limit', async () => {
    const engine = h.engine({ payloadLimitBytes: 2 * 1024 ** 2 });
    const out = await h.build(engine, installing(3), await h.workspace());
    expect(out.report.status).toBe('failed');
    expect(out.report.failure).toMatchObject({ stage: 'install' });
    expect(out.report.error).toMatch(
      /payload is (more than )?3(\.0)? MiB, over the payload limit of 2(\.0)? MiB \(KILN_PAYLOAD_LIMIT\)/,
    );
    expect(out.report.install).toBeNull();
  }, 60_000);

  test('a payload under the limit is recorded', async () => {
    const engine = h.engine({ payloadLimitBytes: 2 * 1024 ** 2 });
    const out = await h.build(engine, installing(1), await h.workspace());
    expect(out.report.status).toBe('succeeded');
    expect(out.report.install?.files).toEqual([expect.objectContaining({ path: '/opt/blob', size: 1024 ** 2 })]);
  }, 60_000);
});

describe('the content policy', () => {
  // Each of these was recorded without a word before.
  const hostile = (policy?: string) =>
    [
      `image: ${DEBIAN}`,
      ...(policy ? [`policy: {content: ${policy}}`] : []),
      'stages: []',
      'install:',
      '  script:',
      '    - mkdir -p "$DESTDIR/usr/bin" "$DESTDIR/etc/cron.d" "$DESTDIR/opt"',
      '    - cp /bin/bash "$DESTDIR/usr/bin/rootsh" && chmod 4755 "$DESTDIR/usr/bin/rootsh"',
      `    - ${JSON.stringify(`cp /etc/passwd "$DESTDIR/etc/passwd" && echo 'toor:x:0:0::/root:/bin/bash' >> "$DESTDIR/etc/passwd"`)}`,
      `    - ${JSON.stringify(`echo '* * * * * root /usr/bin/rootsh -p' > "$DESTDIR/etc/cron.d/evil"`)}`,
      '    - ln /etc/shadow "$DESTDIR/opt/innocent.txt"',
      '    - mkfifo "$DESTDIR/opt/pipe"',
      '',
    ].join('\n');

  test('flags a setuid shell, an /etc/passwd with a uid-0 account, a cron job, a copy of /etc/shadow and a fifo', async () => {
    const out = await h.build(h.engine(), hostile(), await h.workspace());
    expect(out.report.status).toBe('succeeded');
    const flags = (out.report.flags ?? []).map((f) => [f.path, f.rule]);
    expect(flags).toEqual(
      expect.arrayContaining([
        ['/usr/bin/rootsh', 'setuid'],
        ['/etc/passwd', 'account-file'],
        ['/etc/cron.d/evil', 'scheduled-job'],
        ['/opt/innocent.txt', 'sensitive-copy'],
        ['/opt/pipe', 'device'],
      ]),
    );
    expect(logText(out.log, { stream: 'system' })).toContain('content policy: /usr/bin/rootsh is setuid');
  }, 120_000);

  test('fails the build when the manifest or the operator says so', async () => {
    const byManifest = await h.build(h.engine(), hostile('fail'), await h.workspace());
    expect(byManifest.report.status).toBe('failed');
    expect(byManifest.report.error).toMatch(/the content policy flagged \d+ file\(s\)/);
    expect(byManifest.report.flags?.length).toBeGreaterThanOrEqual(5);

    // The manifest cannot weaken the operator's policy.
    const byOperator = await h.build(h.engine({ contentPolicy: 'fail' }), hostile('warn'), await h.workspace());
    expect(byOperator.report.status).toBe('failed');
  }, 180_000);

  test('an ordinary payload is not flagged', async () => {
    const plain = [
      `image: ${BUSYBOX}`,
      'stages: []',
      'install:',
      '  script: [\'mkdir -p "$DESTDIR/usr/bin" && cp /bin/busybox "$DESTDIR/usr/bin/bb" && chmod 755 "$DESTDIR/usr/bin/bb"\']',
      '',
    ].join('\n');
    const out = await h.build(h.engine(), plain, await h.workspace());
    expect(out.report.status).toBe('succeeded');
    expect(out.report.flags).toBeUndefined();
  }, 60_000);
});
