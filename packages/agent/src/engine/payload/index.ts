export { streamPayload, type Payload, type PayloadOptions } from './stream-payload.js';
export { PayloadTooLargeError } from './payload-limit.js';
export { progressLines } from './payload-progress.js';
export { artifactTarget } from './artifact-target.js';
export type { Artifact } from './artifact-writer.js';
