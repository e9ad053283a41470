export { BuildAnalyst, type Analysed } from './build-analyst.js';
export { DockerImageLibraries } from './docker-image-libraries.js';
export { type ImageLibraries, imageSonames, parseLdconfig } from './image-libraries.js';
export { changedSonames, queueDependents, type RebuildPolicy } from './dependent-rebuilds.js';
export { type ImagePackageReader, imagePackages, parseDpkgQuery } from './image-packages.js';
