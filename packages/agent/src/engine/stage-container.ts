import type { ContainerRuntime, ContainerSpec, OutputListener, StageContainer } from './container-runtime.js';

/**
 * A stage's container, created and attached, its script written to its
 * stdin (never to its filesystem, a committed image or its config), but not
 * started: creating it is most of what `docker run` costs, so the engine
 * makes the next stage's container while the current stage runs.
 */
export interface PreparedStage {
  readonly container: StageContainer;
  /** Settles when the container's output has closed. */
  readonly ended: Promise<void>;
  /** Where output goes from now on (nothing arrives before the start). */
  route(listener: OutputListener): void;
}

export async function prepareStage(
  runtime: ContainerRuntime,
  spec: ContainerSpec,
  script: string,
): Promise<PreparedStage> {
  const container = await runtime.create(spec);
  try {
    let sink: OutputListener = () => undefined;
    const { ended } = await container.attach((stream, chunk) => sink(stream, chunk), script);
    return {
      container,
      ended,
      route(listener) {
        sink = listener;
      },
    };
  } catch (err) {
    await container.remove().catch(() => undefined);
    throw err;
  }
}
