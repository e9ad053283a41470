export * from './build-diff.js';
export * from './build-diff-queries.js';
export * from './file-facts-row.js';
export * from './analysis.js';
export * from './change-summary.js';
