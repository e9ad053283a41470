import type Docker from 'dockerode';
import type { ImagePackage, Logger } from '@kiln/shared';
import { buildLabels, currentOwner } from '../engine/labels.js';
import { parseLdconfig, type ImageLibraries } from './image-libraries.js';
import { DPKG_QUERY_FORMAT, parseDpkgQuery, type ImagePackageReader } from './image-packages.js';

const READ_TIMEOUT_MS = 60_000;

/**
 * Reads what a build image offers: its SONAMEs (`ldconfig -p`) and its
 * packages (`dpkg-query`), each in a container with no network, no
 * capabilities, a read-only root and a few MiB of memory, removed afterwards.
 */
export class DockerImageLibraries implements ImageLibraries, ImagePackageReader {
  constructor(
    private readonly docker: Docker,
    private readonly logger?: Logger,
  ) {}

  async digest(image: string): Promise<string | null> {
    try {
      return (await this.docker.getImage(image).inspect()).Id;
    } catch {
      return null;
    }
  }

  async read(image: string): Promise<{ digest: string; sonames: string[] } | null> {
    const digest = await this.digest(image);
    if (!digest) return null;
    const output = await this.run(image, digest, ['ldconfig', '-p']);
    return output === null ? null : { digest, sonames: parseLdconfig(output) };
  }

  async readPackages(image: string): Promise<{ digest: string; packages: ImagePackage[] } | null> {
    const digest = await this.digest(image);
    if (!digest) return null;
    const output = await this.run(image, digest, ['dpkg-query', '-W', `-f=${DPKG_QUERY_FORMAT}`]);
    return output === null ? null : { digest, packages: parseDpkgQuery(output) };
  }

  /** The command's output, or null when it did not succeed in time. */
  private async run(image: string, digest: string, cmd: string[]): Promise<string | null> {
    const container = await this.docker.createContainer({
      Image: digest,
      Cmd: cmd,
      Tty: true,
      NetworkDisabled: true,
      User: '0',
      Labels: buildLabels(currentOwner(), 'image-libraries', 'stage', 'image-libraries'),
      HostConfig: {
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        ReadonlyRootfs: true,
        Memory: 64 * 1024 ** 2,
        PidsLimit: 16,
        SecurityOpt: ['no-new-privileges'],
      },
    });
    try {
      await container.start();
      const exited = (await Promise.race([
        container.wait(),
        new Promise((resolve) => setTimeout(resolve, READ_TIMEOUT_MS).unref()),
      ])) as { StatusCode?: number } | undefined;
      if (exited?.StatusCode !== 0) {
        this.logger?.warn({ image, cmd: cmd[0], exited }, 'reading the build image did not succeed: left unknown');
        return null;
      }
      const output = (await container.logs({ stdout: true, stderr: false, follow: false })) as unknown as Buffer;
      return output.toString('utf8');
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }
}
