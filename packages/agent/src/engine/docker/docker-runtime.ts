import type Docker from 'dockerode';
import type { Logger } from '@kiln/shared';
import type {
  ContainerRuntime,
  ContainerSpec,
  ImageStore,
  LabelledResource,
  StageContainer,
} from '../container-runtime.js';
import { privilegeSettings, type ContainerPolicy } from './container-privileges.js';
import { call, ignoreMissing } from './docker-calls.js';
import { DockerImageStore } from './docker-image-store.js';
import { DockerStageContainer } from './docker-stage-container.js';

export { BUILD_CAPABILITIES, privilegeSettings, type ContainerPolicy } from './container-privileges.js';

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
