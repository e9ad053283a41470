import type { Config } from '@kiln/shared';
import Docker from 'dockerode';
import { BuildIsolation, createBuildEngine, DockerRuntime, type EngineOptions } from './engine/index.js';
import type { BuildEngine } from './engine/types.js';

// The engine's own composition (`@kiln/agent/engine`): what `kiln run` and
// `kiln network` need, without the broker, database and mail clients the
// agent service loads (a second of start-up for a command that uses none).
export * from './engine/index.js';
export { checkoutSourceDate } from './trust/source-date-epoch.js';
export { manifestDigester } from './trust/manifest-digest.js';

/**
 * The build engine on the local Docker engine (or DOCKER_HOST's). Builds
 * share it: it holds no state between them.
 */
export function createDockerEngine(
  options: EngineOptions & { docker?: Docker; allowPrivileged?: boolean },
): BuildEngine {
  const policy = { privileged: options.allowPrivileged ?? false };
  return createBuildEngine(new DockerRuntime(options.docker ?? new Docker(), options.logger, policy), options);
}

/** `kiln network setup`: the isolated build network and its firewall on this host, from the configuration. */
export async function setUpBuildNetwork(config: Config, docker: Docker = new Docker()): Promise<void> {
  const firewall = { allow: config.KILN_BUILD_NETWORK_ALLOW, deny: config.KILN_BUILD_NETWORK_DENY };
  await new BuildIsolation(new DockerRuntime(docker), firewall).network();
}
