import { stat } from 'node:fs/promises';
import path from 'node:path';
import { BuildError } from './build-error.js';

const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

/** The workspace must be a directory, and never one that holds Docker's socket. */
export async function checkWorkspace(workspace: string): Promise<void> {
  const dir = path.resolve(workspace);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new BuildError(`workspace ${dir} is not a directory`);
  // Mounting a parent of Docker's socket would hand the build the host.
  if (DOCKER_SOCKETS.some((socket) => socket === dir || socket.startsWith(dir === '/' ? '/' : `${dir}/`))) {
    throw new BuildError(`workspace ${dir} contains the Docker socket: builds never get it`);
  }
}
