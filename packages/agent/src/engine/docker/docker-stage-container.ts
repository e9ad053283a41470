import { PassThrough, Writable, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { InfrastructureError } from '@kiln/shared';
import type {
  ContainerExit,
  FileChange,
  ImageInfo,
  OutputListener,
  PathStat,
  StageContainer,
} from '../container-runtime.js';
import { call, ignoreMissing, messageOf, statusOf } from './docker-calls.js';

const CHANGE_KIND: Record<number, FileChange['change']> = { 0: 'modified', 1: 'added', 2: 'deleted' };

/** One stage's container through dockerode: attach, start, wait, read files out, commit, remove. */
export class DockerStageContainer implements StageContainer {
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
