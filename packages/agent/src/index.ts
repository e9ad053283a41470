export * from './engine/index.js';
export * from './service/index.js';
export * from './notify/index.js';
export * from './trust/index.js';
export * from './main.js';
export * from './intel/index.js';
