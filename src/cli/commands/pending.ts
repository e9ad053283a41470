import type { Command } from 'commander';
import { NotYetAvailableError, type Io } from '../output.js';

/**
 * Commands whose implementation has not landed yet: they exist, document
 * themselves, and say plainly that they cannot run.
 */
export function registerPending(
  program: Command,
  _io: Io,
  spec: { name: string; args?: string; description: string; options?: Array<[string, string]> },
): void {
  const command = program.command(`${spec.name}${spec.args ? ` ${spec.args}` : ''}`).description(spec.description);
  for (const [flags, text] of spec.options ?? []) command.option(flags, text);
  command.action(() => {
    throw new NotYetAvailableError(`"kiln ${spec.name}" is not available in this version of Kiln yet`);
  });
}
