import { PassThrough, Writable, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { InfrastructureError, type Logger } from '@kiln/shared';
import type {
  ContainerExit,
  ContainerRuntime,
  ContainerSpec,
  FileChange,
  ImageInfo,
  ImageStore,
  LabelledResource,
  OutputListener,
  PathStat,
  PullProgress,
  StageContainer,
} from './container-runtime.js';

/** Capabilities a root build needs to install packages (apt drops to its own user, dpkg sets owners). */
export const BUILD_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETUID', 'SETGID', 'KILL'];

/** What the operator allows build containers beyond the locked-down default. */
export interface ContainerPolicy {
  /** KILN_ALLOW_PRIVILEGED: builds that need it (e.g. to mount file systems) run privileged. */
  privileged: boolean;
}

/**
 * Locked down unless the operator says otherwise: every capability dropped
 * but the few a root package install needs, and no gaining privileges
 * through setuid binaries. Resource limits apply either way.
 */
export function privilegeSettings(
  policy: ContainerPolicy,
): Pick<Docker.HostConfig, 'Privileged' | 'CapDrop' | 'CapAdd' | 'SecurityOpt'> {
  if (policy.privileged) return { Privileged: true };
  return { Privileged: false, CapDrop: ['ALL'], CapAdd: BUILD_CAPABILITIES, SecurityOpt: ['no-new-privileges'] };
}

const CHANGE_KIND: Record<number, FileChange['change']> = { 0: 'modified', 1: 'added', 2: 'deleted' };

/** The Docker engine through dockerode; DOCKER_HOST is honoured as Docker's own tools do. */
export class DockerRuntime implements ContainerRuntime {
  readonly images: ImageStore;

  constructor(
    private readonly docker: Docker,
    private readonly logger?: Logger,
    private readonly policy: ContainerPolicy = { privileged: false },
  ) {
    this.images = new DockerImageStore(docker, logger);
  }

  async create(spec: ContainerSpec): Promise<StageContainer> {
    const container = await call(`create container from ${spec.image}`, () =>
      this.docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Entrypoint: spec.entrypoint,
        Cmd: spec.command,
        WorkingDir: spec.workingDir,
        ...(spec.hostname ? { Hostname: spec.hostname } : {}),
        Labels: spec.labels,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: spec.stdin,
        OpenStdin: spec.stdin,
        StdinOnce: spec.stdin,
        Tty: false,
        NetworkDisabled: spec.network === 'none',
        HostConfig: {
          Mounts: spec.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: false })),
          ...privilegeSettings(this.policy),
          Memory: spec.memoryBytes,
          // Equal to Memory: no swap, so a memory hog meets the limit instead of the disk.
          MemorySwap: spec.memoryBytes,
          NanoCpus: Math.round(spec.cpus * 1e9),
          ...(spec.cpuset ? { CpusetCpus: spec.cpuset } : {}),
          PidsLimit: spec.pids,
          // A real init as PID 1: reaps zombies and passes kills on.
          Init: true,
          NetworkMode: spec.network,
          // Kiln keeps the output itself (masked, capped); the daemon keeping another copy would fill its disk.
          LogConfig: { Type: 'none', Config: {} },
          Ulimits: [{ Name: 'core', Soft: 0, Hard: 0 }],
        },
      }),
    );
    this.logger?.debug({ container: container.id, name: spec.name, image: spec.image }, 'container created');
    return new DockerStageContainer(this.docker, container, spec.name);
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.docker.getVolume(name).inspect();
    } catch {
      await call(`create volume ${name}`, () => this.docker.createVolume({ Name: name, Labels: labels }));
    }
  }

  async ensureNetwork(name: string, options: { bridge: string; labels: Record<string, string> }): Promise<void> {
    const exists = await this.docker
      .getNetwork(name)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (exists) return;
    await call(`create network ${name}`, () =>
      this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: options.labels,
        Options: {
          'com.docker.network.bridge.name': options.bridge,
          // Two builds on the network never talk to each other.
          'com.docker.network.bridge.enable_icc': 'false',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
        },
      }),
    ).catch(async (err: unknown) => {
      // Another agent of this host made it first.
      const made = await this.docker
        .getNetwork(name)
        .inspect()
        .then(
          () => true,
          () => false,
        );
      if (!made) throw err;
    });
  }

  async list(labels: Record<string, string | null>): Promise<LabelledResource[]> {
    const label = Object.entries(labels).map(([k, v]) => (v === null ? k : `${k}=${v}`));
    const [containers, volumes, images] = await call('list labelled resources', () =>
      Promise.all([
        this.docker.listContainers({ all: true, filters: { label } }),
        this.docker.listVolumes({ filters: { label } }),
        this.docker.listImages({ filters: { label } }),
      ]),
    );
    return [
      ...containers.map((c) => ({ type: 'container' as const, id: c.Id, labels: c.Labels ?? {} })),
      ...(volumes.Volumes ?? []).map((v) => ({ type: 'volume' as const, id: v.Name, labels: v.Labels ?? {} })),
      ...images.map((i) => ({ type: 'image' as const, id: i.Id, labels: i.Labels ?? {} })),
    ];
  }

  async remove(resource: LabelledResource): Promise<void> {
    await ignoreMissing(() => {
      if (resource.type === 'container') return this.docker.getContainer(resource.id).remove({ force: true, v: true });
      if (resource.type === 'volume') return this.docker.getVolume(resource.id).remove();
      return this.docker.getImage(resource.id).remove({ force: true });
    }, `remove ${resource.type} ${resource.id}`);
    this.logger?.debug({ [resource.type]: resource.id }, `${resource.type} removed`);
  }
}

class DockerStageContainer implements StageContainer {
  private output: NodeJS.ReadWriteStream | null = null;

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    readonly name: string,
  ) {}

  get id(): string {
    return this.container.id;
  }

  async attach(listener: OutputListener, input?: string): Promise<{ ended: Promise<void> }> {
    const withInput = input !== undefined;
    // hijack: a raw two-way connection, so that ending our side closes the container's stdin.
    const stream = await call(`attach to ${this.name}`, () =>
      this.container.attach({
        stream: true,
        stdout: true,
        stderr: true,
        logs: false,
        ...(withInput ? { stdin: true, hijack: true } : {}),
      }),
    );
    const sink = (name: 'stdout' | 'stderr') =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          listener(name, chunk);
          done();
        },
      });
    this.output = stream;
    this.docker.modem.demuxStream(stream, sink('stdout'), sink('stderr'));
    if (withInput) {
      // Held by the daemon until the process starts and reads it.
      stream.write(input);
      stream.end();
    }
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      // A broken connection ends the output; the exit status still comes from wait().
      stream.on('error', () => resolve());
    });
    return { ended };
  }

  async start(): Promise<void> {
    await call(`start ${this.name}`, () => this.container.start());
  }

  async wait(): Promise<ContainerExit> {
    const result = (await call(`wait for ${this.name}`, () => this.container.wait())) as { StatusCode?: number };
    // Only a failure needs its cause: a stage that exited 0 succeeded whatever the OOM killer did inside.
    if (result.StatusCode === 0) return { exitCode: 0, oomKilled: false };
    const state = (await call(`inspect ${this.name}`, () => this.container.inspect())).State;
    return { exitCode: result.StatusCode ?? state.ExitCode, oomKilled: Boolean(state.OOMKilled) };
  }

  async processCount(): Promise<{ current: number; limit: number } | null> {
    try {
      // one-shot: the current numbers at once, without the second CPU sample.
      const stats = (await this.container.stats({ stream: false, 'one-shot': true } as { stream: false })) as {
        pids_stats?: { current?: number; limit?: number };
      };
      const { current, limit } = stats.pids_stats ?? {};
      return current === undefined || limit === undefined ? null : { current, limit };
    } catch {
      return null;
    }
  }

  async kill(): Promise<void> {
    try {
      await this.container.kill();
    } catch {
      // Already stopped or gone: the point of a kill is reached either way.
    }
  }

  async changes(): Promise<FileChange[]> {
    const list = (await call(`diff ${this.name}`, () => this.container.changes())) as Array<{
      Path: string;
      Kind: number;
    }> | null;
    return (list ?? []).map((c) => ({ path: c.Path, change: CHANGE_KIND[c.Kind] ?? 'modified' }));
  }

  async writtenBytes(): Promise<number | null> {
    // size=1: Docker adds up the sizes in the container's layer (SizeRw); it reads no file's content.
    const withSize = { size: true } as Docker.ContainerInspectOptions;
    const info = (await call(`measure ${this.name}`, () => this.container.inspect(withSize))) as {
      SizeRw?: number;
    };
    return typeof info.SizeRw === 'number' && info.SizeRw >= 0 ? info.SizeRw : null;
  }

  async stat(path: string): Promise<PathStat | null> {
    let response: { headers: Record<string, string | undefined>; resume?: () => void };
    try {
      response = (await this.container.infoArchive({ path })) as typeof response;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new InfrastructureError(`cannot stat ${path} in ${this.name}: ${messageOf(err)}`, { cause: err });
    }
    response.resume?.();
    const header = response.headers['x-docker-container-path-stat'];
    if (!header) return null;
    const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { mode: number; size: number };
    return { mode: stat.mode & 0o7777, size: stat.size, isDirectory: stat.mode >>> 31 === 1 };
  }

  async readTar(path: string): Promise<Readable> {
    const stream = await call(`read ${path} from ${this.name}`, () => this.container.getArchive({ path }));
    // Through a PassThrough: a plain Readable with the usual error handling, whatever modem hands back.
    const out = new PassThrough();
    stream.on('error', (err: Error) => out.destroy(err));
    // A reader that stops early (a limit, a cancel, an error) must close the connection: Docker's
    // archiver would otherwise wait on it and hold the container, and every later call on it hangs.
    out.on('close', () => (stream as { destroy?: () => void }).destroy?.());
    stream.pipe(out);
    return out;
  }

  async commit(image: {
    repository: string;
    tag: string;
    labels: Record<string, string>;
    base: ImageInfo;
  }): Promise<string> {
    // The body replaces the container's config in the new image: the base
    // image's command and our labels, never the stage's entrypoint or labels.
    const result = (await call(`commit ${this.name}`, () =>
      this.container.commit({
        _query: { container: this.container.id, repo: image.repository, tag: image.tag, pause: false },
        _body: {
          Labels: { ...image.base.labels, ...image.labels },
          Entrypoint: image.base.entrypoint,
          Cmd: image.base.command,
          WorkingDir: image.base.workingDir,
        },
      }),
    )) as { Id?: string; id?: string };
    return result.Id ?? result.id ?? '';
  }

  async remove(): Promise<void> {
    try {
      await ignoreMissing(() => this.container.remove({ force: true, v: true }), `remove ${this.name}`);
    } finally {
      // Docker leaves the attach connection of a container that never started open.
      (this.output as { destroy?: () => void } | null)?.destroy?.();
      this.output = null;
    }
  }
}

class DockerImageStore implements ImageStore {
  constructor(
    private readonly docker: Docker,
    private readonly logger?: Logger,
  ) {}

  async inspect(ref: string): Promise<ImageInfo | null> {
    let info: Docker.ImageInspectInfo;
    try {
      info = await this.docker.getImage(ref).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new InfrastructureError(`cannot inspect image ${ref}: ${messageOf(err)}`, { cause: err });
    }
    return {
      id: info.Id,
      labels: info.Config?.Labels ?? {},
      entrypoint: toList(info.Config?.Entrypoint),
      command: toList(info.Config?.Cmd),
      workingDir: info.Config?.WorkingDir ?? '',
    };
  }

  async pull(ref: string, onProgress: (progress: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    this.logger?.info({ image: ref }, 'pulling image');
    const stream = (await call(`pull ${ref}`, () =>
      this.docker.pull(ref, { abortSignal: signal }),
    )) as NodeJS.ReadableStream;
    const layers = new Map<string, { current: number; total: number }>();
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) =>
          err ? reject(new InfrastructureError(`pull ${ref}: ${err.message}`, { cause: err })) : resolve(),
        (event: {
          status?: string;
          id?: string;
          error?: string;
          progressDetail?: { current?: number; total?: number };
        }) => {
          if (event.error) {
            reject(new InfrastructureError(`pull ${ref}: ${event.error}`));
            return;
          }
          const detail = event.progressDetail;
          if (event.id && detail?.total) layers.set(event.id, { current: detail.current ?? 0, total: detail.total });
          let current = 0;
          let total = 0;
          for (const layer of layers.values()) {
            current += layer.current;
            total += layer.total;
          }
          onProgress({ status: event.status ?? '', ...(total ? { current, total } : {}) });
        },
      );
    });
    this.logger?.info({ image: ref }, 'image pulled');
  }
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new InfrastructureError(`Docker: cannot ${what}: ${messageOf(err)}`, { cause: err });
  }
}

async function ignoreMissing(fn: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const status = statusOf(err);
    // 404: already gone; 409: removal already in progress (another cleanup got there first).
    if (status === 404 || status === 409) return;
    throw new InfrastructureError(`Docker: cannot ${what}: ${messageOf(err)}`, { cause: err });
  }
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err
    ? (err as { statusCode?: number }).statusCode
    : undefined;
}

function messageOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'json' in err) {
    const json = (err as { json?: { message?: string } }).json;
    if (json?.message) return json.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function toList(value: string | string[] | undefined | null): string[] | null {
  if (value === undefined || value === null) return null;
  return Array.isArray(value) ? value : [value];
}
