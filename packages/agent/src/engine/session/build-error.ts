/** A build could not run as asked (not a failing command): reported as `errored`. */
export class BuildError extends Error {}

/** A container that cannot even start because of its image is the manifest's problem, not the host's. */
export function imageProblem(err: Error): BuildError | null {
  if (/no such image|not found: manifest unknown/i.test(err.message))
    return new BuildError(err.message, { cause: err });
  return null;
}
