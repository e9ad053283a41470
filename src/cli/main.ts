import { Command, CommanderError } from 'commander';
import { registerAgent } from './commands/agent.js';
import { registerCrawler } from './commands/crawler.js';
import { registerMigrate } from './commands/migrate.js';
import { registerNetwork } from './commands/network.js';
import { registerOwner } from './commands/owner.js';
import { registerLogs } from './commands/logs.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerServer } from './commands/server.js';
import { registerToken } from './commands/token.js';
import { registerKeys } from './commands/keys.js';
import { registerFetch } from './commands/fetch.js';
import { registerDiff } from './commands/diff.js';
import { EXIT, processIo, reportError, type Io } from './output.js';

export function buildProgram(io: Io, done: (code: number) => void): Command {
  const program = new Command('kiln')
    .description('Build released packages from git branches in fresh Docker containers and record what they install.')
    .version('0.1.0')
    .showHelpAfterError('(run "kiln --help" for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  registerRun(program, io, done);
  registerAgent(program, io, done);
  registerCrawler(program, io, done);
  registerMigrate(program, io, done);
  registerSubmit(program, io, done);
  registerStatus(program, io, done);
  registerLogs(program, io, done);
  registerOwner(program, io, done);
  registerNetwork(program, io, done);
  registerServer(program, io, done);
  registerToken(program, io, done);
  registerKeys(program, io, done);
  registerFetch(program, io, done);
  registerDiff(program, io, done);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(err, io);
  }
}
