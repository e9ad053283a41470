import type { Config, Logger } from '@kiln/shared';
import { BuildIsolation, checkOnly, type FirewallOptions, type IptablesRunner } from './build-network.js';
import { loadSigner } from '@kiln/shared/signing-key';
import { buildChecked, wantsCheck } from '../trust/reproducibility-check.js';
import type { ContainerRuntime } from './container-runtime.js';
import { currentOwner, type Owner } from './labels.js';
import { BuildSession, DEFAULT_CACHE_REPOSITORY } from './session/index.js';
import { reapOrphans, removeBuildResources } from './reaper.js';
import type { BuildEngine, BuildRequest, ResourceLimits } from './types.js';

const DEFAULT_DIFFOSCOPE_IMAGE = 'kiln/diffoscope:latest';

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
  /** KILN_VERIFY_REPRODUCIBLE: the fraction of builds checked for reproducibility besides those that ask. */
  verifyReproducible?: number;
  /** Where diffoscope runs (KILN_DIFFOSCOPE_IMAGE). */
  diffoscopeImage?: string;
  /** The farm's OpenPGP key file (KILN_SIGNING_KEY): signs each artifact's provenance. Read here only. */
  signingKey?: string;
}

/** The operator's limits and permissions from the configuration. */
export function engineOptionsFromConfig(config: Config): Pick<
  EngineOptions,
  'limits' | 'allowInheritEnv' | 'firewall' | 'iptables' | 'signingKey' | 'verifyReproducible' | 'diffoscopeImage'
> & {
  allowPrivileged: boolean;
} {
  return {
    ...(config.KILN_SIGNING_KEY ? { signingKey: config.KILN_SIGNING_KEY } : {}),
    verifyReproducible: config.KILN_VERIFY_REPRODUCIBLE,
    diffoscopeImage: config.KILN_DIFFOSCOPE_IMAGE,
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
      emulationSlowdown: config.KILN_EMULATION_SLOWDOWN,
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
  const signer = options.signingKey ? loadSigner(options.signingKey) : undefined;
  signer?.catch(() => undefined);
  const deps = {
    ...(isolation ? { isolation } : {}),
    ...(signer ? { signer: () => signer } : {}),
    runtime,
    limits: options.limits,
    allowInheritEnv: options.allowInheritEnv,
    cacheRepository: options.cacheRepository ?? DEFAULT_CACHE_REPOSITORY,
    owner,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  return {
    build: (request) => {
      const once = (r: BuildRequest) => new BuildSession(deps, r).run();
      if (!wantsCheck(request, options.verifyReproducible ?? 0)) return once(request);
      return buildChecked(once, request, {
        fraction: options.verifyReproducible ?? 0,
        diffoscopeImage: options.diffoscopeImage ?? DEFAULT_DIFFOSCOPE_IMAGE,
        runtime,
        owner,
        limits: options.limits,
      });
    },
    prepareNetwork: async () => {
      // A signing key that cannot be read stops the agent at start, not each build.
      await signer;
      await isolation?.network();
    },
    reap: () => reapOrphans(runtime, owner, options.logger),
    removeBuildResources: (buildId) => removeBuildResources(runtime, buildId, options.logger),
  };
}
