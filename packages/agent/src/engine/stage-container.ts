import type { ContainerRuntime, ContainerSpec, OutputListener, StageContainer } from './container-runtime.js';
import { STAGE_SCRIPT_PATH } from './stage-script.js';

/**
 * A stage's container, created, loaded with its script and attached, but not
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

export async function prepareStage(runtime: ContainerRuntime, spec: ContainerSpec, script: string): Promise<PreparedStage> {
  const container = await runtime.create(spec);
  try {
    await container.putFiles('/', [{ path: STAGE_SCRIPT_PATH.slice(1), content: script, mode: 0o700 }]);
    let sink: OutputListener = () => undefined;
    const { ended } = await container.attach((stream, chunk) => sink(stream, chunk));
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
