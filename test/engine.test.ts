import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EngineHarness, logText, run, sha256sums } from './fixtures/engine/harness.js';

// The build engine against the real Docker engine, on the small kiln/busybox image.
const h = new EngineHarness();

afterEach(async () => {
  expect(await h.leftovers()).toEqual([]);
});

// Removing the compiler images takes a while on a busy Docker engine.
afterAll(async () => {
  await h.dispose();
}, 60_000);

const IMAGE = 'kiln/busybox:latest';

describe('stages', () => {
  test('prepare, vars, workspace and order: each stage in a fresh container from the compiler image', async () => {
    const manifest = `image: ${IMAGE}
environment:
  vars:
    - GREETING=hello world
    - TOKEN=s3cr3t-value
stages: [build, check, package]
prepare:
  script:
    - mkdir -p /opt/tools && printf '#!/bin/sh\\necho tool says "$@"\\n' > /opt/tools/tool && chmod +x /opt/tools/tool
build:
  script:
    - echo "greeting=$GREETING token=$TOKEN"
    - mkdir -p build && cd build
    - echo "$GREETING" > greeting.txt && pwd
    - export BUILT_IN=build
    - /opt/tools/tool "$BUILT_IN"
    - echo scratch > /tmp/only-in-build
check:
  script:
    - test -f build/greeting.txt
    - test ! -e /tmp/only-in-build && echo fresh container
    - test -z "$BUILT_IN" && echo no export across stages
package:
  script: ["tar czf dist.tar.gz build/"]
`;
    const workspace = await h.workspace();
    const out = await h.build(h.engine(), manifest, workspace);
    expect(out.report).toMatchObject({ status: 'succeeded', error: null, install: null });
    expect(out.report.stages.map((s) => [s.name, s.status])).toEqual([
      ['prepare', 'succeeded'],
      ['build', 'succeeded'],
      ['check', 'succeeded'],
      ['package', 'succeeded'],
    ]);
    expect(out.report.stages[0]!.cached).toBeUndefined();
    expect(out.report.stages[1]!.image).toMatch(new RegExp(`^${h.cacheRepository}:`));
    expect(out.report.stages[1]!.commands.map((c) => [c.command, c.exitCode])).toEqual([
      ['echo "greeting=$GREETING token=$TOKEN"', 0],
      ['mkdir -p build && cd build', 0],
      ['echo "$GREETING" > greeting.txt && pwd', 0],
      ['export BUILT_IN=build', 0],
      ['/opt/tools/tool "$BUILT_IN"', 0],
      ['echo scratch > /tmp/only-in-build', 0],
    ]);
    const build = logText(out.log, { stage: 'build', stream: 'stdout' });
    // The secret is masked; cd and export carried to the next line; prepare's tool is there.
    expect(build).toBe('greeting=hello world token=***\n/workspace/build\ntool says build\n');
    expect(logText(out.log, { stage: 'check', stream: 'stdout' })).toBe('fresh container\nno export across stages\n');
    expect(JSON.stringify(out.log)).not.toContain('s3cr3t-value');
    expect(JSON.stringify(out.live)).not.toContain('s3cr3t-value');
    // The workspace is the checkout: its result is there after the build.
    expect(await readFile(path.join(workspace, 'build', 'greeting.txt'), 'utf8')).toBe('hello world\n');
    const { stdout } = await run('tar', ['tzf', path.join(workspace, 'dist.tar.gz')]);
    expect(stdout.split('\n')).toContain('build/greeting.txt');
    // Events in order: stage, then its commands, then the stage's end.
    const order = out.events
      .filter((e) => e.type !== 'commandFinished')
      .map((e) => ('index' in e ? `${e.stage}#${e.index}` : `${e.type}:${e.stage}`));
    expect(order).toEqual([
      'stageStarted:prepare',
      'prepare#0',
      'stageFinished:prepare',
      'stageStarted:build',
      ...[0, 1, 2, 3, 4, 5].map((i) => `build#${i}`),
      'stageFinished:build',
      'stageStarted:check',
      'check#0',
      'check#1',
      'check#2',
      'stageFinished:check',
      'stageStarted:package',
      'package#0',
      'stageFinished:package',
    ]);

    // The same prepare again: the cached compiler image, nothing runs.
    const again = await h.build(h.engine(), manifest, await h.workspace());
    expect(again.report.status).toBe('succeeded');
    expect(again.report.stages[0]).toMatchObject({ name: 'prepare', status: 'succeeded', cached: true, commands: [] });
    expect(logText(again.log, { stage: 'build', stream: 'stdout' })).toContain('tool says build');
    expect(await h.cacheImages()).toHaveLength(1);

    // A changed prepare is a different compiler image.
    const changed = await h.build(
      h.engine(),
      manifest.replace('echo tool says', 'echo the tool says'),
      await h.workspace(),
    );
    expect(changed.report.stages[0]!.cached).toBeUndefined();
    expect(logText(changed.log, { stage: 'build', stream: 'stdout' })).toContain('the tool says build');
    expect(await h.cacheImages()).toHaveLength(2);
  }, 60_000);

  test('a failing line fails the build, names stage, line and exit code, and skips what follows', async () => {
    const manifest = `image: ${IMAGE}
stages: [build, test, package]
build:
  script: ["echo built"]
test:
  script:
    - echo one
    - sh -c 'echo failing >&2; exit 3'
    - echo never
package:
  script: ["echo never"]
install:
  script: ["echo never"]
`;
    const out = await h.build(h.engine(), manifest, await h.workspace());
    expect(out.report.status).toBe('failed');
    expect(out.report.error).toBe(`stage "test" failed at line 2 (sh -c 'echo failing >&2; exit 3'): exited 3`);
    expect(out.report.failure).toEqual({
      stage: 'test',
      command: `sh -c 'echo failing >&2; exit 3'`,
      exitCode: 3,
      reason: 'exited 3',
    });
    expect(out.report.stages.map((s) => [s.name, s.status, s.exitCode])).toEqual([
      ['build', 'succeeded', 0],
      ['test', 'failed', 3],
      ['package', 'skipped', null],
      ['install', 'skipped', null],
    ]);
    expect(out.report.stages[1]!.commands.map((c) => c.exitCode)).toEqual([0, 3]);
    expect(logText(out.log, { stage: 'test', stream: 'stderr' })).toBe('failing\n');
    expect(logText(out.log)).not.toContain('never');
  }, 30_000);

  test('a line that exits the shell, and a syntax error, fail at that line', async () => {
    const out = await h.build(
      h.engine(),
      `image: ${IMAGE}\nstages: [a, b]\na: {script: ["true", "exit 7", "echo never"]}\nb: {script: ["echo never"]}\n`,
      await h.workspace(),
    );
    expect(out.report.failure).toMatchObject({ stage: 'a', command: 'exit 7', exitCode: 7 });
    const syntax = await h.build(
      h.engine(),
      `image: ${IMAGE}\nstages: [a]\na: {script: ["if then fi"]}\n`,
      await h.workspace(),
    );
    expect(syntax.report.status).toBe('failed');
    expect(syntax.report.failure).toMatchObject({ stage: 'a', command: 'if then fi', exitCode: 2 });
  }, 30_000);

  test('a secret split across writes is masked in the kept log and the live log', async () => {
    const manifest = `image: ${IMAGE}
environment:
  vars: [DEPLOY_TOKEN=split-secret-42, PLAIN=visible]
stages: [leak]
leak:
  script:
    - printf 'a split-se'; sleep 0.3; printf 'cret-42 b\\n'
    - echo "$DEPLOY_TOKEN" >&2; echo "$PLAIN"
    - echo "command with split-secret-42 in it"
`;
    const out = await h.build(h.engine(), manifest, await h.workspace());
    expect(out.report.status).toBe('succeeded');
    expect(logText(out.log, { stream: 'stdout' })).toBe('a *** b\nvisible\ncommand with *** in it\n');
    expect(logText(out.log, { stream: 'stderr' })).toBe('***\n');
    expect(JSON.stringify([out.log, out.live, out.report])).not.toContain('split-secret-42');
  }, 30_000);

  test('the log is capped: the tail is kept', async () => {
    const out = await h.build(
      h.engine({ logLimitBytes: 4096 }),
      `image: ${IMAGE}\nstages: [noisy]\nnoisy: {script: ["seq 1 20000", "echo the end"]}\n`,
      await h.workspace(),
    );
    expect(out.report.status).toBe('succeeded');
    expect(Buffer.byteLength(logText(out.log))).toBeLessThanOrEqual(4096);
    expect(logText(out.log, { stream: 'stdout' }).endsWith('20000\nthe end\n')).toBe(true);
    expect(out.logTruncatedBytes).toBeGreaterThan(100_000);
    // The live log saw everything.
    expect(logText(out.live, { stream: 'stdout' })).toContain('1\n2\n3\n');
  }, 30_000);
});

describe('environment and caches', () => {
  const manifest = `image: ${IMAGE}
environment:
  inherit: true
  vars: [FROM_MANIFEST=yes]
stages: [show]
show:
  script: ['echo "cc=$CC token=$CI_JOB_TOKEN manifest=$FROM_MANIFEST kiln=$KILN_DATABASE_URL path=$PATH"']
`;
  const hostEnv = {
    CC: 'clang',
    CI_JOB_TOKEN: 'tok-123456',
    KILN_DATABASE_URL: 'postgres://secret@db/kiln',
    PATH: '/host/only',
  };

  test('inherit: true passes the host environment where the operator allows it, masking its secrets', async () => {
    const out = await h.build(h.engine({}, { allowInheritEnv: true }), manifest, await h.workspace(), { hostEnv });
    expect(logText(out.log, { stream: 'stdout' })).toBe(
      'cc=clang token=*** manifest=yes kiln= path=/usr/local/bin:/usr/bin:/bin\n',
    );
  }, 30_000);

  test('where the operator does not allow it, inherit is ignored and the log says so', async () => {
    const out = await h.build(h.engine(), manifest, await h.workspace(), { hostEnv });
    expect(logText(out.log, { stream: 'stdout' })).toBe(
      'cc= token= manifest=yes kiln= path=/usr/local/bin:/usr/bin:/bin\n',
    );
    expect(logText(out.log, { stream: 'system' })).toContain('environment.inherit is ignored');
  }, 30_000);

  test('cache paths are kept between builds of the same package, and in no payload', async () => {
    const cached = `image: ${IMAGE}
stages: [build]
build: {script: ["cat /root/.ccache/count 2>/dev/null || echo none", "echo hit >> /root/.ccache/count"]}
install: {script: ["echo hit >> /root/.ccache/count", "mkdir -p $DESTDIR/x && touch $DESTDIR/x/y"]}
cache: [/root/.ccache, /var/cache/thing]
`;
    const pkg = { name: `cache-test-${process.pid}`, version: '1' };
    try {
      const first = await h.build(h.engine(), cached, await h.workspace(), { package: pkg });
      expect(logText(first.log, { stage: 'build', stream: 'stdout' })).toBe('none\n');
      expect(first.report.install!.files.map((f) => f.path)).toEqual(['/x/y']);
      const second = await h.build(h.engine(), cached, await h.workspace(), { package: pkg });
      expect(logText(second.log, { stage: 'build', stream: 'stdout' })).toBe('hit\nhit\n');
    } finally {
      await h.removeCacheVolumes([{ repo: h.repo, package: pkg.name }], ['/root/.ccache', '/var/cache/thing']);
    }
  }, 30_000);
});

describe('install', () => {
  test('DESTDIR and not: everything installed is found, classified and hashed, and the artifact matches', async () => {
    const manifest = `image: ${IMAGE}
stages: [build]
build:
  script: ["printf 'key=value\\\\n' > app.conf && printf '#!/bin/sh\\\\necho hi\\\\n' > app.sh"]
install:
  script:
    - mkdir -p "$DESTDIR/usr/bin" "$DESTDIR/usr/share/app" && cp /bin/busybox "$DESTDIR/usr/bin/app"
    - ln -s app "$DESTDIR/usr/bin/app-link" && cp app.sh "$DESTDIR/usr/share/app/run.sh" && chmod 0755 "$DESTDIR/usr/share/app/run.sh"
    - mkdir -p /usr/local/bin /etc/app && cp /bin/busybox /usr/local/bin/ignores-destdir
    - cp app.conf /etc/app/app.conf && printf '!<arch>\\n' > /usr/local/lib.a && echo tmp > /tmp/not-payload
    - mkdir -p /root/.cache && echo x > /root/.cache/not-payload
    - ln "$DESTDIR/usr/bin/app" "$DESTDIR/usr/bin/app-hard" && echo 'app:x:999:999::/:/bin/false' >> /etc/passwd
`;
    const artifacts = await h.tempDir();
    const out = await h.build(h.engine(), manifest, await h.workspace(), { artifactDir: artifacts });
    expect([out.report.status, out.report.error]).toEqual(['succeeded', null]);
    const install = out.report.install!;
    const { stdout: busyboxSum } = await run('docker', ['run', '--rm', IMAGE, 'sha256sum', '/bin/busybox']);
    const busybox = { sha256: busyboxSum.slice(0, 64), kind: 'executable', linkage: 'static', mode: '0755' };
    expect(install.files.map((f) => f.path)).toEqual([
      '/etc/app/app.conf',
      '/etc/passwd',
      '/usr/bin/app',
      '/usr/bin/app-hard',
      '/usr/bin/app-link',
      '/usr/local/bin/ignores-destdir',
      '/usr/local/lib.a',
      '/usr/share/app/run.sh',
    ]);
    const byPath = Object.fromEntries(install.files.map((f) => [f.path, f]));
    expect(byPath['/usr/bin/app']).toMatchObject(busybox);
    expect(byPath['/usr/local/bin/ignores-destdir']).toMatchObject(busybox);
    expect(byPath['/usr/bin/app-hard']).toMatchObject(busybox);
    // A file the image had and the install changed counts too, where it is.
    expect(byPath['/etc/passwd']).toMatchObject({ kind: 'config' });
    expect(byPath['/usr/bin/app-link']).toEqual({
      path: '/usr/bin/app-link',
      size: 3,
      mode: '0777',
      kind: 'symlink',
      target: 'app',
    });
    expect(byPath['/etc/app/app.conf']).toMatchObject({ kind: 'config', size: 10, mode: '0644' });
    expect(byPath['/usr/local/lib.a']).toMatchObject({ kind: 'static-library' });
    expect(byPath['/usr/share/app/run.sh']).toMatchObject({ kind: 'executable', mode: '0755' });
    expect(byPath['/usr/share/app/run.sh']!.linkage).toBeUndefined();
    expect(install.sizeBytes).toBe(install.files.reduce((sum, f) => sum + f.size, 0));

    // The artifact holds exactly these files, and sha256sum agrees with the report.
    const artifact = install.artifact!;
    expect(path.dirname(artifact.path)).toBe(artifacts);
    expect(artifact).toMatchObject({ format: 'tar.gz', path: expect.stringMatching(/\.tar\.gz$/) });
    const { stdout: artifactSum } = await run('sha256sum', [artifact.path]);
    expect(artifactSum.slice(0, 64)).toBe(artifact.sha256);
    const extracted = await h.tempDir();
    await run('tar', ['xf', artifact.path, '-C', extracted]);
    const sums = await sha256sums(extracted);
    const reported = Object.fromEntries(install.files.filter((f) => f.sha256).map((f) => [f.path, f.sha256]));
    expect(sums).toEqual(reported);
  }, 30_000);

  test('a failing install fails the build and records no payload', async () => {
    const out = await h.build(
      h.engine(),
      `image: ${IMAGE}\nstages: [build]\nbuild: {script: ["true"]}\ninstall: {script: ["mkdir -p $DESTDIR/x", "exit 4"]}\n`,
      await h.workspace(),
    );
    expect(out.report).toMatchObject({ status: 'failed', install: null, failure: { stage: 'install', exitCode: 4 } });
  }, 30_000);
});

describe('safety', () => {
  test('containers are locked down: no capabilities beyond the few, no new privileges, limits, no Docker socket', async () => {
    const out = await h.build(
      h.engine({ memoryBytes: 300 * 1024 ** 2, pids: 123, cpus: 0.5 }),
      `image: ${IMAGE}
stages: [look]
look:
  script:
    - grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status
    - echo "pids.max=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"
    - echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
    - echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)" | tr '\\n' ' ' && echo
    - for p in /var/run/docker.sock /run/docker.sock; do if [ -e "$p" ]; then echo "present $p"; else echo "absent $p"; fi; done
    - find / \\( -path /proc -o -path /sys \\) -prune -o -type s -print | sed 's/^/socket /'
    - echo "DOCKER_HOST=$DOCKER_HOST"
    - echo "interfaces:" $(ls /sys/class/net)
`,
      await h.workspace(),
    );
    expect(out.report.status).toBe('succeeded');
    const text = logText(out.log, { stream: 'stdout' });
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID: bits 0 1 3 4 5 6 7.
    expect(text).toContain('CapEff:\t00000000000000fb');
    expect(text).toContain('CapBnd:\t00000000000000fb');
    expect(text).toContain('NoNewPrivs:\t1');
    expect(text).toContain('pids.max=123\n');
    expect(text).toContain(`memory=${300 * 1024 ** 2}\n`);
    // Half a CPU: 50 ms of every 100 ms (cgroup v1: quota and period; v2: "50000 100000").
    expect(text).toMatch(/^cpu=50000 100000 ?$/m);
    // Neither place Docker's socket is conventionally found, and no socket anywhere else either.
    expect(text).toContain('absent /var/run/docker.sock\n');
    expect(text).toContain('absent /run/docker.sock\n');
    expect(text).not.toMatch(/^present /m);
    expect(text).not.toMatch(/^socket /m);
    expect(text).toContain('DOCKER_HOST=\n');
    // KILN_NETWORK=none (the tests' setting): loopback only.
    expect(text).toContain('interfaces: lo\n');
  }, 30_000);

  test('a fork bomb ends as a failed build with the process limit named; the host is unharmed', async () => {
    const out = await h.build(
      h.engine({ pids: 64 }),
      `image: ${IMAGE}\nstages: [bomb]\nbomb: {script: ["bomb() { bomb | bomb & }; bomb; sleep 5; echo survived"]}\n`,
      await h.workspace(),
    );
    expect(out.report.status).toBe('failed');
    expect(out.report.stages[0]!.error).toMatch(/limit of 64 processes was reached/);
    expect(out.report.error).toContain('stage "bomb" failed at line 1');
    // A silent one that burns out and lets the line exit 0: the kernel's count of refused forks gives it away.
    const silent = await h.build(
      h.engine({ pids: 64 }),
      `image: ${IMAGE}\nstages: [bomb]\nbomb: {script: ["bomb() { bomb | bomb & }; bomb 2>/dev/null; sleep 1", "echo after"]}\n`,
      await h.workspace(),
    );
    expect(silent.report.status).toBe('failed');
    expect(silent.report.stages[0]!.error).toMatch(
      /^killed: the limit of 64 processes was reached, \d+ process starts refused/,
    );
    expect(silent.report.failure).toMatchObject({ stage: 'bomb', command: expect.stringContaining('bomb()') });
    expect(logText(silent.log, { stream: 'stdout' })).not.toContain('after');
    // The host still starts processes and containers.
    const after = await h.build(
      h.engine(),
      `image: ${IMAGE}\nstages: [ok]\nok: {script: ["echo fine"]}\n`,
      await h.workspace(),
    );
    expect(after.report.status).toBe('succeeded');
  }, 60_000);

  test('a memory hog is killed at the memory limit', async () => {
    const out = await h.build(
      h.engine({ memoryBytes: 64 * 1024 ** 2 }),
      `image: ${IMAGE}\nstages: [hog]\nhog: {script: ["echo start", "x=$(head -c 400m /dev/zero | tr '\\\\0' a); echo never"]}\n`,
      await h.workspace(),
    );
    expect(out.report.status).toBe('failed');
    expect(out.report.stages[0]!.error).toBe('killed: out of memory (limit 64 MiB)');
    expect(out.report.failure).toMatchObject({ stage: 'hog', reason: 'killed: out of memory (limit 64 MiB)' });
    expect(logText(out.log, { stream: 'stdout' })).not.toContain('never');
  }, 60_000);

  test('sleep infinity ends at the no-output timeout; a chatty endless loop at the stage timeout', async () => {
    const idle = await h.build(
      h.engine({ idleTimeoutMs: 1500 }),
      `image: ${IMAGE}\nstages: [hang]\nhang: {script: ["echo going to sleep", "sleep infinity"]}\n`,
      await h.workspace(),
    );
    expect(idle.report.status).toBe('failed');
    expect(idle.report.error).toBe('stage "hang" failed at line 2 (sleep infinity): no output for 1500ms');
    expect(idle.report.stages[0]).toMatchObject({ exitCode: null, error: 'no output for 1500ms' });
    expect(idle.report.stages[0]!.commands[1]).toMatchObject({ command: 'sleep infinity', exitCode: null });

    const chatty = await h.build(
      h.engine({ idleTimeoutMs: 1500 }),
      `image: ${IMAGE}\nstages: [loop]\nloop:\n  script: ["while true; do echo tick; sleep 0.2; done"]\n  timeout: 3s\n`,
      await h.workspace(),
    );
    expect(chatty.report.status).toBe('failed');
    expect(chatty.report.stages[0]!.error).toBe('timed out after 3s');
  }, 60_000);

  test('cancelling stops the build and leaves no container behind', async () => {
    const controller = new AbortController();
    const pending = h.build(
      h.engine(),
      `image: ${IMAGE}\nstages: [long, after]\nlong: {script: ["echo started", "sleep 600"]}\nafter: {script: ["true"]}\n`,
      await h.workspace(),
      {
        signal: controller.signal,
        events: {
          log: (chunk) => {
            if (chunk.text.includes('started')) controller.abort();
          },
        },
      },
    );
    const out = await pending;
    expect(out.report.status).toBe('cancelled');
    expect(out.report.stages.map((s) => [s.name, s.status])).toEqual([
      ['long', 'cancelled'],
      ['after', 'skipped'],
    ]);
  }, 30_000);
});

describe('errors', () => {
  test('an image that is neither here nor pullable: errored, saying which', async () => {
    const out = await h.build(
      h.engine(),
      `image: kiln-test/no-such-image:1\nstages: [a]\na: {script: ["true"]}\n`,
      await h.workspace(),
    );
    expect(out.report.status).toBe('errored');
    expect(out.report.error).toMatch(/^image kiln-test\/no-such-image:1 is not on this host and could not be pulled: /);
  }, 60_000);

  test('a workspace that is not a directory, or holds the Docker socket: errored', async () => {
    const missing = await h.build(
      h.engine(),
      `image: ${IMAGE}\nstages: [a]\na: {script: ["true"]}\n`,
      '/nonexistent/kiln',
    );
    expect(missing.report).toMatchObject({
      status: 'errored',
      error: 'workspace /nonexistent/kiln is not a directory',
    });
    const socket = await h.build(h.engine(), `image: ${IMAGE}\nstages: [a]\na: {script: ["true"]}\n`, '/run');
    expect(socket.report.error).toBe('workspace /run contains the Docker socket: builds never get it');
  });
});

describe('resources left behind', () => {
  test('reap removes what a dead process of this host left, and nothing of live ones', async () => {
    const engine = h.engine();
    const { hostname } = await import('node:os');
    const make = async (pid: number, buildId: string) => {
      const c = await h.docker.createContainer({
        Image: IMAGE,
        Cmd: ['true'],
        Labels: {
          'kiln.build-id': buildId,
          'kiln.owner': hostname(),
          'kiln.owner-pid': String(pid),
          'kiln.role': 'stage',
        },
      });
      return c.id;
    };
    const dead = await make(2 ** 22 + 7, 'reap-dead'); // beyond pid_max: never a live process
    const alive = await make(process.pid, 'reap-alive');
    try {
      expect(await engine.reap()).toBeGreaterThanOrEqual(1);
      await expect(h.docker.getContainer(dead).inspect()).rejects.toMatchObject({ statusCode: 404 });
      await expect(h.docker.getContainer(alive).inspect()).resolves.toBeTruthy();
      expect(await engine.removeBuildResources('reap-alive')).toBe(1);
      await expect(h.docker.getContainer(alive).inspect()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      await h.docker
        .getContainer(dead)
        .remove({ force: true })
        .catch(() => undefined);
      await h.docker
        .getContainer(alive)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }, 30_000);
});
