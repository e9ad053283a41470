import { Command, CommanderError } from 'commander';
import { EXIT, processIo, reportError, type Io } from './output.js';

type Register = (program: Command, io: Io, done: (code: number) => void) => void;

/**
 * Each command's module, loaded only when it runs: a command pulls in only
 * the packages it uses (`kiln run` the engine, not the broker, database,
 * mail and HTTP clients), which saves a second or more of start-up.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  agent: async () => (await import('./commands/agent.js')).registerAgent,
  crawler: async () => (await import('./commands/crawler.js')).registerCrawler,
  migrate: async () => (await import('./commands/migrate.js')).registerMigrate,
  submit: async () => (await import('./commands/submit.js')).registerSubmit,
  status: async () => (await import('./commands/status.js')).registerStatus,
  logs: async () => (await import('./commands/logs.js')).registerLogs,
  owner: async () => (await import('./commands/owner.js')).registerOwner,
  network: async () => (await import('./commands/network.js')).registerNetwork,
  server: async () => (await import('./commands/server.js')).registerServer,
  token: async () => (await import('./commands/token.js')).registerToken,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  fetch: async () => (await import('./commands/fetch.js')).registerFetch,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  diff: async () => (await import('./commands/diff.js')).registerDiff,
};

/** The program with the named command only, or with all of them (help, a typo, no command). */
export async function buildProgram(io: Io, done: (code: number) => void, command?: string): Promise<Command> {
  const program = new Command('kiln')
    .description('Build released packages from git branches in fresh Docker containers and record what they install.')
    .version('0.1.0')
    .showHelpAfterError('(run "kiln --help" for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  const names = command !== undefined && Object.hasOwn(COMMANDS, command) ? [command] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((name) => COMMANDS[name]!()))) register(program, io, done);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function runCli(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  try {
    const program = await buildProgram(
      io,
      (c) => {
        code = c;
      },
      argv[2],
    );
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(err, io);
  }
}
