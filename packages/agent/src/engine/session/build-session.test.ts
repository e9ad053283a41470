import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { debianHostArch, InfrastructureError, parseManifest } from '@kiln/shared';
import { createBuildEngine } from '../build-engine.js';
import type {
  ContainerExit,
  ContainerRuntime,
  ContainerSpec,
  ImageInfo,
  OutputListener,
  StageContainer,
} from '../container-runtime.js';
import { LABEL } from '../labels.js';
import type { ResourceLimits } from '../types.js';

/**
 * The session's control flow through a fake ContainerRuntime: each fake
 * container plays its stage's script (read from the wrapper on its stdin) by
 * printing the wrapper's markers, with the exit codes a test asks for, or
 * hangs until it is killed, or is lost (the engine cannot wait for it).
 */
interface StagePlay {
  /** Exit code per script line (default 0). */
  exits?: number[];
  /** The line at which the container stops printing and never exits until killed. */
  hangAt?: number;
  /** Waiting for the container fails, as when Docker loses it. */
  lost?: boolean;
}

const TOKEN = /(::kiln-[0-9a-f]+::) s (\d+)/g;

class FakeContainer implements StageContainer {
  readonly id: string;
  private listener: OutputListener = () => undefined;
  private script = '';
  private exit: ((value: ContainerExit) => void) | null = null;
  private readonly exited: Promise<ContainerExit>;
  private endOutput: () => void = () => undefined;
  killed = false;
  removed = false;
  started = false;

  constructor(
    readonly name: string,
    readonly spec: ContainerSpec,
    private readonly play: StagePlay,
  ) {
    this.id = `fake-${name}`;
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }

  async attach(listener: OutputListener, input?: string): Promise<{ ended: Promise<void> }> {
    this.listener = listener;
    this.script = input ?? '';
    return { ended: new Promise<void>((resolve) => (this.endOutput = resolve)) };
  }

  async start(): Promise<void> {
    this.started = true;
    const starts = [...this.script.matchAll(TOKEN)];
    const token = starts[0]?.[1] ?? '';
    const out = (text: string) => this.listener('stdout', Buffer.from(text));
    // After start() returns, as a real container's output arrives.
    setImmediate(() => {
      for (const [, , index] of starts) {
        const i = Number(index);
        out(`${token} s ${i}\n`);
        out(`output of line ${i}\n`);
        if (this.play.hangAt === i) return;
        const code = this.play.exits?.[i] ?? 0;
        out(`${token} e ${i} ${code} 0\n`);
        if (code !== 0) return this.stop(code);
      }
      out(`${token} d\n`);
      this.stop(0);
    });
  }

  private stop(exitCode: number): void {
    this.endOutput();
    this.exit?.({ exitCode, oomKilled: false });
  }

  async wait(): Promise<ContainerExit> {
    if (this.play.lost) throw new InfrastructureError(`Docker: cannot wait for ${this.name}: no such container`);
    return this.exited;
  }

  async processCount() {
    return null;
  }

  async kill(): Promise<void> {
    this.killed = true;
    this.stop(137);
  }

  async writtenBytes() {
    return null;
  }

  async changes() {
    return [];
  }

  async stat() {
    return null;
  }

  async readTar(): Promise<Readable> {
    throw new Error('not used by these builds');
  }

  async commit(): Promise<string> {
    throw new Error('not used by these builds');
  }

  async remove(): Promise<void> {
    this.removed = true;
  }
}

class FakeRuntime implements ContainerRuntime {
  readonly containers: FakeContainer[] = [];
  readonly images = {
    inspect: async (ref: string): Promise<ImageInfo | null> =>
      ref === 'fake/image:1'
        ? { id: 'sha256:fake', labels: {}, arch: debianHostArch(), entrypoint: null, command: null, workingDir: '' }
        : null,
    pull: async (ref: string) => {
      throw new Error(`${ref}: not found`);
    },
    tag: async () => {},
    untag: async () => {},
  };

  constructor(private readonly plays: Record<string, StagePlay> = {}) {}

  async create(spec: ContainerSpec): Promise<StageContainer> {
    const stage = spec.labels[LABEL.stage] ?? '';
    const container = new FakeContainer(spec.name, spec, this.plays[stage] ?? {});
    this.containers.push(container);
    return container;
  }

  async ensureVolume() {}
  async ensureNetwork() {}
  async list() {
    return [];
  }
  async remove() {}

  /** Containers not removed yet. */
  left(): string[] {
    return this.containers.filter((c) => !c.removed).map((c) => c.name);
  }
}

const LIMITS: ResourceLimits = {
  memoryBytes: 256 * 1024 ** 2,
  cpus: 1,
  pids: 100,
  stageTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  logLimitBytes: 1024 ** 2,
  network: 'none',
  allowStageNetwork: false,
  payloadLimitBytes: 1024 ** 3,
  contentPolicy: 'warn',
};

const MANIFEST = parseManifest(`image: fake/image:1
stages: [build, test]
build:
  script: [one, two, three]
test:
  script: [check]
`);

let workspace: string;
beforeAll(async () => {
  workspace = await mkdtemp(path.join(os.tmpdir(), 'kiln-session-'));
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

function build(runtime: FakeRuntime, options: { limits?: Partial<ResourceLimits>; signal?: AbortSignal } = {}) {
  const engine = createBuildEngine(runtime, {
    limits: { ...LIMITS, ...options.limits },
    allowInheritEnv: false,
    owner: { host: 'test', pid: 1 },
  });
  const started: string[] = [];
  const result = engine.build({
    buildId: 'b1',
    workspace,
    manifest: MANIFEST,
    package: null,
    ...(options.signal ? { signal: options.signal } : {}),
    events: { stageStarted: (e) => started.push(e.stage) },
  });
  return { result, started };
}

describe('BuildSession control flow', () => {
  test('every stage in a fresh container, in order; timings for the image and each stage', async () => {
    const runtime = new FakeRuntime();
    const { report } = await build(runtime).result;
    expect(report.status).toBe('succeeded');
    expect(report.stages.map((s) => [s.name, s.status, s.commands.map((c) => c.exitCode)])).toEqual([
      ['build', 'succeeded', [0, 0, 0]],
      ['test', 'succeeded', [0]],
    ]);
    expect(runtime.containers.map((c) => c.spec.labels[LABEL.stage])).toEqual(['build', 'test']);
    expect(runtime.containers.every((c) => c.spec.network === 'none')).toBe(true);
    expect(report.timings?.map((t) => (t.stage ? `${t.phase} ${t.stage}` : t.phase))).toEqual([
      'image',
      'stage build',
      'stage test',
    ]);
    expect(runtime.left()).toEqual([]);
  });

  test('a failing line fails the build at that line and skips the stages after it', async () => {
    const runtime = new FakeRuntime({ build: { exits: [0, 2] } });
    const { report } = await build(runtime).result;
    expect(report.status).toBe('failed');
    expect(report.error).toBe('stage "build" failed at line 2 (two): exited 2');
    expect(report.failure).toEqual({ stage: 'build', command: 'two', exitCode: 2, reason: 'exited 2' });
    expect(report.stages.map((s) => [s.name, s.status])).toEqual([
      ['build', 'failed'],
      ['test', 'skipped'],
    ]);
    expect(report.stages[0]!.commands.map((c) => [c.command, c.exitCode])).toEqual([
      ['one', 0],
      ['two', 2],
    ]);
    // The test stage's container was made ahead; it never started and is gone all the same.
    expect(runtime.containers.find((c) => c.spec.labels[LABEL.stage] === 'test')?.started).toBe(false);
    expect(runtime.left()).toEqual([]);
  });

  test('a line that runs past the stage timeout is killed and the build fails, naming the limit', async () => {
    const runtime = new FakeRuntime({ build: { hangAt: 1 } });
    const { report } = await build(runtime, { limits: { stageTimeoutMs: 100 } }).result;
    expect(report.status).toBe('failed');
    expect(report.failure).toMatchObject({ stage: 'build', command: 'two', reason: 'timed out after 100ms' });
    expect(report.stages[0]!.commands.at(-1)).toMatchObject({ command: 'two', exitCode: null });
    expect(runtime.containers[0]!.killed).toBe(true);
    expect(runtime.left()).toEqual([]);
  });

  test('a cancel stops the running stage: cancelled, nothing after it runs', async () => {
    const runtime = new FakeRuntime({ build: { hangAt: 0 } });
    const abort = new AbortController();
    const { result, started } = build(runtime, { signal: abort.signal });
    while (!runtime.containers[0]?.started) await new Promise((resolve) => setTimeout(resolve, 5));
    abort.abort();
    const { report } = await result;
    expect(report.status).toBe('cancelled');
    expect(started).toEqual(['build']);
    expect(runtime.containers.find((c) => c.spec.labels[LABEL.stage] === 'test')?.started ?? false).toBe(false);
    expect(runtime.left()).toEqual([]);
  });

  test('a container Docker loses is an infrastructure failure (retried elsewhere), and nothing is left behind', async () => {
    const runtime = new FakeRuntime({ test: { lost: true } });
    await expect(build(runtime).result).rejects.toThrow(/cannot wait for .*test/);
    expect(runtime.containers.map((c) => c.spec.labels[LABEL.stage])).toEqual(['build', 'test']);
    expect(runtime.left()).toEqual([]);
  });

  test('an image that is neither here nor pullable: errored, no container made', async () => {
    const runtime = new FakeRuntime();
    runtime.images.inspect = async () => null;
    const { report } = await build(runtime).result;
    expect(report.status).toBe('errored');
    expect(report.error).toMatch(/image fake\/image:1 is not on this host and could not be pulled/);
    expect(runtime.containers).toEqual([]);
  });
});
