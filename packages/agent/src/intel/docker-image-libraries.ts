import type Docker from 'dockerode';
import type { Logger } from '@kiln/shared';
import { buildLabels, currentOwner } from '../engine/labels.js';
import { parseLdconfig, type ImageLibraries } from './image-libraries.js';

const READ_TIMEOUT_MS = 60_000;

/**
 * Reads an image's SONAMEs by running `ldconfig -p` in it: no network, no
 * capabilities, read-only, a few MiB of memory, removed afterwards.
 */
export class DockerImageLibraries implements ImageLibraries {
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
    const container = await this.docker.createContainer({
      Image: digest,
      Cmd: ['ldconfig', '-p'],
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
        this.logger?.warn({ image, exited }, 'ldconfig -p did not succeed in the image: its libraries are unknown');
        return null;
      }
      const output = (await container.logs({ stdout: true, stderr: false, follow: false })) as unknown as Buffer;
      return { digest, sonames: parseLdconfig(output.toString('utf8')) };
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }
}
