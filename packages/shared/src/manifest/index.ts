export * from './types.js';
export * from './manifest-error.js';
export { parseManifest } from './parse-manifest.js';
export { readManifest } from './read-manifest.js';
