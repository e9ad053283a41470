import type { Command } from 'commander';
import { createPool, loadConfig, type Pool } from '@kiln/shared';
import { FINISHED_STATUSES, buildState, logAttempt, readLog, resolveBuildId } from '@kiln/agent';
import { neutralise } from '../terminal-text.js';
import { EXIT, type Io } from '../output.js';
import { databaseError } from './database-error.js';

export function registerLogs(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('logs <build-id>')
    .description("print a build's log")
    .option('-f, --follow', 'follow a running build live (exit 0 when it succeeds, 1 otherwise)')
    .option('--attempt <n>', 'the log of this attempt (default: the latest that logged)')
    .addHelpText(
      'after',
      `
Prints the log of the build's latest attempt from the package database. With
--follow, keeps printing as the build runs (starting from its first line) until
it finishes; if the build is retried meanwhile, follows the new attempt.

Examples:
  $ kiln logs 3f2a91c0
  $ kiln logs 3f2a91c0 --follow
`,
    )
    .action(async (idOrPrefix: string, opts: { follow?: boolean; attempt?: string }) => {
      const config = loadConfig(io.env);
      const pool = createPool(config.KILN_DATABASE_URL, { max: 2, applicationName: 'kiln-logs' });
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      try {
        const id = await resolveBuildId(pool, idOrPrefix);
        if (!id) {
          io.err(`kiln: no build ${idOrPrefix} (run "kiln status" to list recent builds)\n`);
          done(EXIT.failed);
          return;
        }
        const chosen = opts.attempt === undefined ? undefined : Number(opts.attempt);
        if (chosen !== undefined && (!Number.isInteger(chosen) || chosen < 1)) {
          io.err('kiln: --attempt must be a whole number from 1\n');
          done(EXIT.usage);
          return;
        }
        done(await (opts.follow ? follow(pool, io, id, stop.signal) : printAll(pool, io, id, chosen)));
      } catch (err) {
        throw databaseError(err, config.KILN_DATABASE_URL);
      } finally {
        process.off('SIGINT', onSignal);
        await pool.end().catch(() => {});
      }
    });
}

async function printAll(pool: Pool, io: Io, id: string, chosen?: number): Promise<number> {
  const attempt = chosen ?? (await logAttempt(pool, id));
  if (attempt === null) {
    io.err('kiln: this build has not logged anything yet (try --follow)\n');
    return EXIT.ok;
  }
  let cursor = -1;
  for (;;) {
    const lines = await readLog(pool, id, attempt, cursor);
    for (const line of lines) io.out(neutralise(line.text, io.isTty));
    if (lines.length === 0) return EXIT.ok;
    cursor = lines[lines.length - 1]?.seq ?? cursor;
  }
}

/**
 * Polls the database: lines written before following began come first, then
 * new ones as the agent appends them; a retried build is followed into its
 * new attempt. Ends when the build is finished and its log fully read.
 */
async function follow(pool: Pool, io: Io, id: string, signal: AbortSignal, pollMs = 300): Promise<number> {
  let attempt = (await logAttempt(pool, id)) ?? (await buildState(pool, id))?.attempt ?? 0;
  let cursor = -1;
  while (!signal.aborted) {
    const lines = attempt > 0 ? await readLog(pool, id, attempt, cursor) : [];
    for (const line of lines) io.out(neutralise(line.text, io.isTty));
    if (lines.length > 0) {
      cursor = lines[lines.length - 1]?.seq ?? cursor;
      continue;
    }
    const state = await buildState(pool, id);
    if (!state) return EXIT.failed;
    if (state.attempt > attempt) {
      if (attempt > 0) io.out(`[kiln] --- attempt ${state.attempt} ---\n`);
      attempt = state.attempt;
      cursor = -1;
      continue;
    }
    if (FINISHED_STATUSES.includes(state.status)) {
      // The final transaction may have written the last lines after our read.
      const rest = await readLog(pool, id, attempt, cursor);
      for (const line of rest) io.out(neutralise(line.text, io.isTty));
      if (rest.length > 0) {
        cursor = rest[rest.length - 1]?.seq ?? cursor;
        continue;
      }
      io.err(`kiln: build ${state.status}\n`);
      return state.status === 'succeeded' ? EXIT.ok : EXIT.failed;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }
  return EXIT.ok;
}
