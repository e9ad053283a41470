import { InfrastructureError } from '../errors.js';

/** A git command failed or timed out; the message is one redacted line. */
export class GitCommandError extends InfrastructureError {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'exit' | 'spawn' | 'output' | 'aborted' | 'unsafe',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
