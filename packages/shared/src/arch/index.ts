export * from './arch-names.js';
export * from './emulation.js';
