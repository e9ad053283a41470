export * from './types.js';
export * from './manifest-error.js';
export { parseManifest } from './parse-manifest.js';
export { readManifest, readManifestFrom, type ManifestSource } from './read-manifest.js';
export { type ManifestPolicy, type PolicyLevel } from './policy.js';
