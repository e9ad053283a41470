export * from './types.js';
export { createBuildEngine, engineOptionsFromConfig, type EngineOptions } from './build-engine.js';
export type * from './container-runtime.js';
export { DockerRuntime, BUILD_CAPABILITIES } from './docker/index.js';
export { LABEL, KEPT_ROLES, currentOwner, type Owner } from './labels.js';
export { readElf, isElf, type ElfInfo, type ByteSource } from './elf-reader.js';
export { classifyFile } from './file-kind.js';
export { SecretMasker } from './secret-masker.js';
export { DEFAULT_CACHE_REPOSITORY } from './session/index.js';
export { SECRET_NAME } from './build-environment.js';
export { cacheVolumeName, type CacheOwner } from './cache-mounts.js';
export { checkContent } from './content-policy.js';
export {
  BUILD_NETWORK,
  BUILD_BRIDGE,
  BuildIsolation,
  FORBIDDEN_RANGES,
  firewallRules,
  runIptables,
  type FirewallOptions,
} from './build-network.js';
export { PayloadTooLargeError, streamPayload, type Payload, type PayloadOptions } from './payload/index.js';
