// The Docker engine behind the ContainerRuntime seam.
export { DockerRuntime, BUILD_CAPABILITIES, privilegeSettings, type ContainerPolicy } from './docker-runtime.js';
