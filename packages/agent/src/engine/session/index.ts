// One build as named steps: the session and what the engine gives it.
export { BuildSession } from './build-session.js';
export type { SessionDeps } from './session-context.js';
export { DEFAULT_CACHE_REPOSITORY, prepareCacheKey, prepareCacheTag } from './prepare-cache.js';
