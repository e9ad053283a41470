import type { Command } from 'commander';
import { assertDatabaseReachable, createPool, loadConfig, type Pool } from '@kiln/shared';
import { TOKEN_SCOPES, createToken, listTokens, revokeToken, type TokenScope } from '@kiln/server';
import { table } from '../format.js';
import { EXIT, type Io } from '../output.js';
import { databaseError } from './database-error.js';

export function registerToken(program: Command, io: Io, done: (code: number) => void): void {
  const token = program.command('token').description("manage kiln server's API tokens (only their hashes are stored)");

  const withPool = async (work: (pool: Pool) => Promise<number>): Promise<void> => {
    const config = loadConfig(io.env);
    const pool = createPool(config.KILN_DATABASE_URL, { max: 1, applicationName: 'kiln-token' });
    try {
      await assertDatabaseReachable(pool, config.KILN_DATABASE_URL);
      done(await work(pool));
    } catch (err) {
      throw databaseError(err, config.KILN_DATABASE_URL);
    } finally {
      await pool.end().catch(() => undefined);
    }
  };

  token
    .command('create')
    .description('make a token and print it once')
    .requiredOption('--name <name>', 'what the token is for (unique)')
    .requiredOption('--scope <scope>', `${TOKEN_SCOPES.join(', ')}: read; submit and rebuild; also cancel`)
    .option('--json', 'print {id, name, scope, token} as JSON')
    .addHelpText('after', '\nExample:\n  $ kiln token create --name ci --scope submit\n')
    .action(async (opts: { name: string; scope: string; json?: boolean }) => {
      if (!(TOKEN_SCOPES as readonly string[]).includes(opts.scope)) {
        io.err(`kiln: --scope must be one of ${TOKEN_SCOPES.join(', ')}\n`);
        done(EXIT.usage);
        return;
      }
      await withPool(async (pool) => {
        const made = await createToken(pool, opts.name, opts.scope as TokenScope);
        if (opts.json) io.out(`${JSON.stringify({ ...made.info, token: made.token })}\n`);
        else {
          io.out(`${made.token}\n`);
          io.err(`kiln: token "${made.info.name}" (${made.info.scope}) made; it is shown this once, keep it safe\n`);
        }
        return EXIT.ok;
      });
    });

  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withPool(async (pool) => {
        const tokens = await listTokens(pool);
        if (opts.json) io.out(`${JSON.stringify(tokens)}\n`);
        else if (tokens.length === 0) io.out('no tokens (kiln token create --name N --scope submit)\n');
        else {
          const rows = tokens.map((t) => [
            t.name,
            t.scope,
            t.createdAt.slice(0, 19).replace('T', ' '),
            t.lastUsedAt?.slice(0, 19).replace('T', ' ') ?? 'never',
            t.revokedAt ? `revoked ${t.revokedAt.slice(0, 10)}` : 'live',
          ]);
          io.out(`${table(['name', 'scope', 'created', 'last used', 'state'], rows).join('\n')}\n`);
        }
        return EXIT.ok;
      });
    });

  token
    .command('revoke <name-or-id>')
    .description('revoke a token at once')
    .action(async (nameOrId: string) => {
      await withPool(async (pool) => {
        if (await revokeToken(pool, nameOrId)) {
          io.out(`revoked ${nameOrId}\n`);
          return EXIT.ok;
        }
        io.err(`kiln: no live token ${nameOrId} (kiln token list)\n`);
        return EXIT.failed;
      });
    });
}
