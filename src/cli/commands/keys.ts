import type { Command } from 'commander';
import { loadConfig } from '@kiln/shared';
import { generateSigningKey } from '@kiln/server';
import { EXIT, type Io } from '../output.js';

export function registerKeys(program: Command, io: Io, done: (code: number) => void): void {
  const keys = program.command('keys').description("the farm's signing key (signs the package repository)");
  keys
    .command('generate')
    .description('make an Ed25519 OpenPGP key for KILN_SIGNING_KEY and print its public half')
    .option('--out <file>', 'where to write the private key (default: KILN_SIGNING_KEY)')
    .option('--name <name>', "the key's user name", 'Kiln package repository')
    .option('--email <email>', "the key's email address", 'kiln@localhost')
    .option('--force', 'replace an existing key file')
    .option('--json', 'print {fingerprint, file, publicKey} as JSON')
    .addHelpText(
      'after',
      `
The private key is written with mode 0600 and no passphrase (kiln server reads it at start).
Give the printed public key to whoever installs with "kiln fetch" (KILN_REPO_KEY).

Example:
  $ kiln keys generate --out /etc/kiln/signing-key.asc > /etc/kiln/repo-key.asc
`,
    )
    .action(async (opts: { out?: string; name: string; email: string; force?: boolean; json?: boolean }) => {
      const config = loadConfig(io.env);
      const file = opts.out ?? config.KILN_SIGNING_KEY;
      if (!file) {
        io.err('kiln: say where the key goes: --out <file>, or set KILN_SIGNING_KEY\n');
        done(EXIT.usage);
        return;
      }
      const made = await generateSigningKey(file, { name: opts.name, email: opts.email, force: opts.force ?? false });
      if (opts.json) io.out(`${JSON.stringify({ fingerprint: made.fingerprint, file, publicKey: made.publicKey })}\n`);
      else {
        io.out(made.publicKey.endsWith('\n') ? made.publicKey : `${made.publicKey}\n`);
        io.err(`kiln: wrote ${file} (fingerprint ${made.fingerprint}); the public key is above\n`);
      }
      done(EXIT.ok);
    });
}
