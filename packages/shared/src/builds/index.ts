// The read side of a build, as `kiln status`, `kiln logs` and `kiln server` share it.
export * from './build-summary.js';
export * from './build-list.js';
export * from './build-details.js';
export * from './build-id.js';
export * from './build-log-reader.js';
export * from './trust-summary.js';
