import type { Config, Logger } from '@kiln/shared';
import { BuildIsolation, checkOnly, type FirewallOptions, type IptablesRunner } from './build-network.js';
import type { ContainerRuntime } from './container-runtime.js';
import { currentOwner, type Owner } from './labels.js';
import { BuildSession, DEFAULT_CACHE_REPOSITORY } from './session/index.js';
import { reapOrphans, removeBuildResources } from './reaper.js';
import type { BuildEngine, ResourceLimits } from './types.js';

export interface EngineOptions {
  limits: ResourceLimits;
  /** The operator's KILN_ALLOW_INHERIT_ENV: whether `environment.inherit: true` is honoured. */
  allowInheritEnv: boolean;
  logger?: Logger;
  /** Repository of cached compiler images (default `kiln-cache/prepare`). */
  cacheRepository?: string;
  /** Who owns what this engine creates (default: this host and process). */
  owner?: Owner;
  /** Ranges the isolated build network may reach or not, beyond its defaults. */
  firewall?: FirewallOptions;
  /** How the firewall's rules are installed (default: the iptables command). */
  iptables?: IptablesRunner;
}

/** The operator's limits and permissions from the configuration. */
export function engineOptionsFromConfig(
  config: Config,
): Pick<EngineOptions, 'limits' | 'allowInheritEnv' | 'firewall' | 'iptables'> & { allowPrivileged: boolean } {
  return {
    allowPrivileged: config.KILN_ALLOW_PRIVILEGED,
    limits: {
      memoryBytes: config.KILN_MEMORY_LIMIT,
      cpus: config.KILN_CPU_LIMIT,
      pids: config.KILN_PIDS_LIMIT,
      stageTimeoutMs: config.KILN_STAGE_TIMEOUT,
      idleTimeoutMs: config.KILN_IDLE_TIMEOUT,
      logLimitBytes: config.KILN_LOG_LIMIT,
      network: config.KILN_NETWORK,
      allowStageNetwork: config.KILN_ALLOW_STAGE_NETWORK,
      payloadLimitBytes: config.KILN_PAYLOAD_LIMIT,
      contentPolicy: config.KILN_CONTENT_POLICY,
    },
    firewall: { allow: config.KILN_BUILD_NETWORK_ALLOW, deny: config.KILN_BUILD_NETWORK_DENY },
    ...(config.KILN_BUILD_FIREWALL === 'external' ? { iptables: checkOnly } : {}),
    allowInheritEnv: config.KILN_ALLOW_INHERIT_ENV,
  };
}

export function createBuildEngine(runtime: ContainerRuntime, options: EngineOptions): BuildEngine {
  const owner = options.owner ?? currentOwner();
  const isolation =
    options.limits.network === 'isolated'
      ? new BuildIsolation(runtime, options.firewall ?? { allow: [], deny: [] }, options.iptables, options.logger)
      : undefined;
  const deps = {
    ...(isolation ? { isolation } : {}),
    runtime,
    limits: options.limits,
    allowInheritEnv: options.allowInheritEnv,
    cacheRepository: options.cacheRepository ?? DEFAULT_CACHE_REPOSITORY,
    owner,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  return {
    build: (request) => new BuildSession(deps, request).run(),
    prepareNetwork: async () => {
      await isolation?.network();
    },
    reap: () => reapOrphans(runtime, owner, options.logger),
    removeBuildResources: (buildId) => removeBuildResources(runtime, buildId, options.logger),
  };
}
