export { startServer, type RunningServer } from './main.js';
export { buildApp, BODY_LIMIT } from './app.js';
export type { ServerDeps } from './http/deps.js';
export { AmqpLiveFeed, noLiveEvents, type LiveEvents, type LiveEvent } from './live/live-feed.js';
export { followLog, type FollowEvent } from './live/log-follower.js';
export { PackageIndex, type RepoIndex, type IndexEntry } from './repo/package-index.js';
export { ArtifactStore, parseArtifactName } from './repo/artifact-store.js';
export { loadSigner, generateSigningKey, verifyDetached, type Signer } from './repo/signing-key.js';
export {
  createToken,
  listTokens,
  revokeToken,
  authenticate,
  TOKEN_SCOPES,
  type TokenScope,
  type TokenInfo,
} from './db/token-store.js';
export type { BuildSubmitter } from './db/build-actions.js';
export * from './fetch/index.js';
