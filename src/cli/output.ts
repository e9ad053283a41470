import { KilnError } from '@kiln/shared';

/** Where a command writes: stdout for results, stderr for people. Injected so tests can read it. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal: colour and live progress only then. */
  isTty: boolean;
  env: Record<string, string | undefined>;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTty: Boolean(process.stdout.isTTY),
  env: process.env,
};

/** Exit codes shared by every command: scripts act on them. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** One line a person can act on; a stack trace only with KILN_DEBUG=1. */
export function reportError(err: unknown, io: Io): number {
  const error = err instanceof Error ? err : new Error(String(err));
  io.err(`kiln: ${error.message}\n`);
  if (io.env.KILN_DEBUG === '1' && error.stack) io.err(`${error.stack}\n`);
  return error instanceof KilnError ? error.exitCode : EXIT.failed;
}
