import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidInputError, formatSize, loadConfig, toError } from '@kiln/shared';
import { debianHostArch } from '@kiln/shared';
import { fetchPackage } from '@kiln/server';
import { EXIT, type Io } from '../output.js';

export function registerFetch(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('fetch <package>')
    .description("install a package from kiln server's signed repository into a folder")
    .requiredOption('--to <dir>', 'the folder to install into (paths inside the package are relative to it)')
    .option('--arch <arch>', 'architecture (Debian name)', debianHostArch())
    .option('--server <url>', 'kiln server (default: KILN_SERVER_URL)')
    .option('--key <file>', "the farm's public key to trust (default: KILN_REPO_KEY)")
    .option('--allow-setuid', 'keep setuid and setgid bits')
    .option('--json', 'print what was installed as JSON')
    .addHelpText(
      'after',
      `
<package> is a name (the newest version) or name@version. The index's signature is checked
against the trusted key, the artifact's sha256 against the index, and the archive is
extracted safely: no path outside the folder, no device files or hard links, nothing
written through a symlink, no setuid bits unless --allow-setuid. Exit 1 with the reason
when anything does not hold; nothing is installed then.

Examples:
  $ kiln fetch zlib --to /opt/root --key /etc/kiln/repo-key.asc
  $ kiln fetch zlib@1.3.1 --arch amd64 --to ./sysroot --json
`,
    )
    .action(
      async (
        spec: string,
        opts: { to: string; arch: string; server?: string; key?: string; allowSetuid?: boolean; json?: boolean },
      ) => {
        const config = loadConfig(io.env);
        const at = spec.lastIndexOf('@');
        const name = at > 0 ? spec.slice(0, at) : spec;
        const version = at > 0 ? spec.slice(at + 1) : undefined;
        if (!name || version === '') throw new InvalidInputError(`"${spec}" is not <name> or <name>@<version>`);
        const keyFile = opts.key ?? config.KILN_REPO_KEY;
        let trustedKey: string | null = null;
        if (keyFile) {
          trustedKey = await readFile(keyFile, 'utf8').catch((err: unknown) => {
            throw new InvalidInputError(`cannot read the trusted key ${keyFile}: ${toError(err).message}`);
          });
        }
        const result = await fetchPackage({
          server: opts.server ?? config.KILN_SERVER_URL,
          name,
          ...(version ? { version } : {}),
          arch: opts.arch,
          to: opts.to,
          trustedKey,
          allowSetuid: opts.allowSetuid ?? false,
        });
        for (const warning of result.warnings) io.err(`kiln: warning: ${warning}\n`);
        const { entry, extracted } = result;
        if (opts.json) {
          io.out(
            `${JSON.stringify({
              name: entry.name,
              version: entry.version,
              arch: entry.arch,
              buildId: entry.buildId,
              sha256: entry.sha256,
              signedBy: result.fingerprint,
              to: opts.to,
              files: extracted.files,
              symlinks: extracted.symlinks,
              directories: extracted.directories,
              strippedModes: extracted.strippedModes,
            })}\n`,
          );
        } else {
          io.out(
            `installed ${entry.name} ${entry.version} (${entry.arch}) into ${opts.to}: ${extracted.files} files, ${extracted.symlinks} symlinks, ${formatSize(entry.installedSize)}\n` +
              `index signed by ${result.fingerprint}; artifact sha256 ${entry.sha256 ?? ''} checked\n`,
          );
        }
        done(EXIT.ok);
      },
    );
}
