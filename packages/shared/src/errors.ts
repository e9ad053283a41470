/**
 * Errors say what should happen to the job that hit them:
 * - InvalidInputError: the input can never succeed (dead-letter or fail now, no retry);
 * - InfrastructureError: something around the build broke (retry with a limit).
 * A build that runs and fails is a result, not an error.
 */
export class KilnError extends Error {
  /** Exit status a CLI should use when this error ends it. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends KilnError {
  override readonly exitCode = 2;
}

export class ConfigError extends InvalidInputError {}

export class InfrastructureError extends KilnError {}

/** Turns whatever was thrown into an Error, keeping the original as the cause. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown), { cause: thrown });
}

export function isErrorNamed(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}
