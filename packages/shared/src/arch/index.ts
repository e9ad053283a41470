export * from './arch-names.js';
export * from './debian-arch.js';
export * from './emulation.js';
export * from './served-arches.js';
