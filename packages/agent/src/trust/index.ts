export * from './source-date-epoch.js';
