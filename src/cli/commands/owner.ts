import type { Command } from 'commander';
import {
  InvalidInputError,
  checkRepoLocation,
  createPool,
  grantOwner,
  listOwners,
  loadConfig,
  repoIdentity,
  revokeOwner,
  transferOwner,
  withTransaction,
  type Pool,
} from '@kiln/shared';
import { EXIT, type Io } from '../output.js';
import { table } from '../format.js';
import { escapeCell, neutralise } from '../terminal-text.js';
import { databaseError } from './database-error.js';

const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,199}$/;

/**
 * A package name belongs to the repository that first built it; builds of it
 * from any other repository are refused. Operators share, transfer and take
 * back names here.
 */
export function registerOwner(program: Command, io: Io, done: (code: number) => void): void {
  const owner = program
    .command('owner')
    .description('show or change which repositories may build a package')
    .addHelpText(
      'after',
      `
A package name belongs to the repository that first built it. A build from any
other repository that claims the name (by its branch or package.name) is
refused and its maintainer emailed. KILN_PACKAGE_OWNERS pins owners in the
configuration instead, and then wins over what is stored here.

Examples:
  $ kiln owner list
  $ kiln owner add libgreet https://git.example.org/team/libgreet-fork.git
  $ kiln owner transfer libgreet /srv/git/libgreet-new.git
  $ kiln owner remove libgreet https://git.example.org/team/libgreet-fork.git
`,
    );
  owner
    .command('list [package]')
    .description('list packages and the repositories that own them')
    .option('--json', 'print as JSON')
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      await withPool(io, done, async (pool) => {
        const owners = await listOwners(pool, name);
        if (opts.json) io.out(`${JSON.stringify(owners)}\n`);
        else if (owners.length === 0)
          io.out(name ? `nobody owns ${escapeCell(name)} yet\n` : 'no package has an owner yet\n');
        else {
          const rows = owners.map((o) => [
            escapeCell(o.name),
            escapeCell(o.repo),
            o.grantedBy,
            o.grantedAt.toISOString(),
          ]);
          io.out(neutralise(`${table(['PACKAGE', 'REPOSITORY', 'BY', 'SINCE'], rows).join('\n')}\n`, io.isTty));
        }
        return EXIT.ok;
      });
    });
  owner
    .command('add <package> <repository>')
    .description('let one more repository build a package (shared ownership)')
    .action(async (name: string, repo: string) => {
      const [pkg, identity] = checked(name, repo);
      await withPool(io, done, async (pool) => {
        await grantOwner(pool, pkg, identity);
        io.out(`${identity} may now build ${pkg}\n`);
        return EXIT.ok;
      });
    });
  owner
    .command('transfer <package> <repository>')
    .description('make a repository the only owner of a package')
    .action(async (name: string, repo: string) => {
      const [pkg, identity] = checked(name, repo);
      await withPool(io, done, async (pool) => {
        await withTransaction(pool, (db) => transferOwner(db, pkg, identity));
        io.out(`${pkg} now belongs to ${identity} alone\n`);
        return EXIT.ok;
      });
    });
  owner
    .command('remove <package> <repository>')
    .description('stop a repository from building a package')
    .action(async (name: string, repo: string) => {
      const [pkg, identity] = checked(name, repo);
      await withPool(io, done, async (pool) => {
        if (await revokeOwner(pool, pkg, identity)) {
          io.out(`${identity} may no longer build ${pkg}\n`);
          return EXIT.ok;
        }
        io.err(`kiln: ${identity} does not own ${pkg} (see: kiln owner list ${pkg})\n`);
        return EXIT.failed;
      });
    });
}

function checked(name: string, repo: string): [string, string] {
  if (!PACKAGE_NAME.test(name)) throw new InvalidInputError(`"${escapeCell(name.slice(0, 60))}" is not a package name`);
  const location = checkRepoLocation(repo);
  if (!location.ok) throw new InvalidInputError(`repository "${escapeCell(repo.slice(0, 200))}" ${location.reason}`);
  return [name, repoIdentity(repo)];
}

async function withPool(io: Io, done: (code: number) => void, work: (pool: Pool) => Promise<number>): Promise<void> {
  const config = loadConfig(io.env);
  const pool = createPool(config.KILN_DATABASE_URL, { max: 1, applicationName: 'kiln-owner' });
  try {
    done(await work(pool));
  } catch (err) {
    throw databaseError(err, config.KILN_DATABASE_URL);
  } finally {
    await pool.end().catch(() => {});
  }
}
