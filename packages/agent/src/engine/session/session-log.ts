import { LogKeeper } from '../log-keeper.js';
import type { SecretMasker } from '../secret-masker.js';
import type { BuildEvents, LogChunk, LogStream } from '../types.js';

/**
 * The build's log, in one place: every chunk is kept (capped, masked) and
 * handed to the live listener as it comes.
 */
export class SessionLog {
  private readonly keeper: LogKeeper;

  constructor(
    private readonly masker: SecretMasker,
    limitBytes: number,
    private readonly events?: BuildEvents,
  ) {
    this.keeper = new LogKeeper(limitBytes);
  }

  /** A container's output, already masked by the stage runner. */
  output(stage: string, stream: LogStream, text: string): void {
    const chunk = { stage, stream, text, at: Date.now() };
    this.keeper.add(chunk);
    this.events?.log?.(chunk);
  }

  /** Kiln's own words about the build (masked: they may quote a command). */
  system(stage: string, text: string): void {
    this.output(stage, 'system', this.masker.mask(text));
  }

  chunks(): LogChunk[] {
    return this.keeper.chunks();
  }

  get truncatedBytes(): number {
    return this.keeper.truncatedBytes;
  }
}
