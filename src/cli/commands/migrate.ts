import type { Command } from 'commander';
import { assertDatabaseReachable, createPool, loadConfig, migrate, migrationStatus } from '@kiln/shared';
import type { Io } from '../output.js';

export function registerMigrate(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to run twice, or from two hosts at once)')
    .option('--status', 'list applied and pending migrations without applying any')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ kiln migrate\n  $ KILN_DATABASE_URL=postgres://kiln@db/kiln kiln migrate --status\n',
    )
    .action(async (opts: { status?: boolean; json?: boolean }) => {
      const config = loadConfig(io.env);
      const pool = createPool(config.KILN_DATABASE_URL, { max: 1, applicationName: 'kiln-migrate' });
      try {
        await assertDatabaseReachable(pool, config.KILN_DATABASE_URL);
        if (opts.status) {
          const status = await migrationStatus(pool);
          if (opts.json) io.out(`${JSON.stringify(status)}\n`);
          else
            io.out(
              `applied: ${status.applied.join(', ') || 'none'}\npending: ${status.pending.join(', ') || 'none'}\n`,
            );
        } else {
          const applied = await migrate(pool);
          if (opts.json) io.out(`${JSON.stringify({ applied })}\n`);
          else io.out(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
        }
        done(0);
      } finally {
        await pool.end();
      }
    });
}
