import type { Command } from 'commander';
import { createPool, diffOf, loadConfig } from '@kiln/shared';
import { resolveBuildId } from '@kiln/agent';
import { EXIT, type Io } from '../output.js';
import { databaseError } from './database-error.js';
import { diffText } from './diff-text.js';

export function registerDiff(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('diff <build> [other]')
    .description('what a build changed: files, sizes, linkage, provided SONAMEs, hardening, command times')
    .option('--json', 'print the diff as JSON')
    .addHelpText(
      'after',
      `
Without <other>, compares the build with the one it was compared with when it
was recorded: the previous succeeded build of the same version (a hotfix), or
else of the previous version. With <other>, compares the two builds now.

Examples:
  $ kiln diff 3f2a91c0
  $ kiln diff 3f2a91c0 77b0e1d2 --json
`,
    )
    .action(async (build: string, other: string | undefined, opts: { json?: boolean }) => {
      const config = loadConfig(io.env);
      const pool = createPool(config.KILN_DATABASE_URL, { max: 2, applicationName: 'kiln-diff' });
      try {
        const id = await resolveBuildId(pool, build);
        const against = other === undefined ? undefined : await resolveBuildId(pool, other);
        if (!id || against === null) {
          io.err(`kiln: no build ${!id ? build : other} (run "kiln status" to list recent builds)\n`);
          return done(EXIT.failed);
        }
        const found = await diffOf(pool, id, against);
        if ('missing' in found) {
          io.err(`kiln: build ${build} has no earlier succeeded build of its package to compare with\n`);
          return done(EXIT.failed);
        }
        io.out(opts.json ? `${JSON.stringify(found.diff, null, 2)}\n` : diffText(found.diff));
        done(EXIT.ok);
      } catch (err) {
        throw databaseError(err, config.KILN_DATABASE_URL);
      } finally {
        await pool.end().catch(() => {});
      }
    });
}
