export * from './database.js';
export * from './broker.js';
export * from './git.js';
export * from './smtp-sink.js';
export * from './wait.js';
export * from './metrics.js';
