import type Docker from 'dockerode';
import { archOfOciPlatform, InfrastructureError, type Logger } from '@kiln/shared';
import type { ImageInfo, ImageStore, PullProgress } from '../container-runtime.js';
import { ARCH_LABEL } from '../labels.js';
import { call, messageOf, statusOf, toList } from './docker-calls.js';

/** Images through dockerode: inspect (null when absent) and pull with progress. */
export class DockerImageStore implements ImageStore {
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
    const labels = info.Config?.Labels ?? {};
    const variant = (info as { Variant?: string }).Variant;
    return {
      id: info.Id,
      labels,
      arch: labels[ARCH_LABEL] || archOfOciPlatform(info.Architecture, variant),
      entrypoint: toList(info.Config?.Entrypoint),
      command: toList(info.Config?.Cmd),
      workingDir: info.Config?.WorkingDir ?? '',
    };
  }

  async tag(image: string, ref: string): Promise<void> {
    const at = ref.lastIndexOf(':');
    await call(`tag ${image} as ${ref}`, () =>
      this.docker.getImage(image).tag({ repo: ref.slice(0, at), tag: ref.slice(at + 1) }),
    );
  }

  async untag(ref: string): Promise<void> {
    await call(`untag ${ref}`, () => this.docker.getImage(ref).remove({ noprune: true }));
  }

  async pull(
    ref: string,
    onProgress: (progress: PullProgress) => void,
    signal?: AbortSignal,
    platform?: string,
  ): Promise<void> {
    this.logger?.info({ image: ref, platform }, 'pulling image');
    const stream = (await call(`pull ${ref}${platform ? ` for ${platform}` : ''}`, () =>
      this.docker.pull(ref, { abortSignal: signal, ...(platform ? { platform } : {}) }),
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
