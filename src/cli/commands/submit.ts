import type { Command } from 'commander';
import {
  amqpConnector,
  InvalidInputError,
  isDebianArch,
  assertDatabaseReachable,
  createLogger,
  createPool,
  loadConfig,
  redactRepo,
  toError,
  type Pool,
} from '@kiln/shared';
import { AmqpJobPublisher, resolveHead, submitBuild } from '@kiln/crawler';
import type { Io } from '../output.js';

export function registerSubmit(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('submit <repo> [branch]')
    .description('publish a build job and print its id')
    .option('--json', 'print the job as JSON')
    .option('--arch <arch>', 'build for this Debian arch only (default: every arch the manifest lists)')
    .addHelpText(
      'after',
      `
Without a branch, the repository's default branch is built. The commit is resolved with
git ls-remote when the server answers. The build is recorded as queued in the database;
if the database is unreachable the job is still published (with a warning).

Examples:
  $ kiln submit /srv/git/zlib.git zlib-1.3.1
  $ kiln submit https://git.example.org/zlib.git --json
  $ kiln submit /srv/git/zlib.git zlib-1.3.1 --arch arm64
`,
    )
    .action(async (repo: string, branch: string | undefined, opts: { json?: boolean; arch?: string }) => {
      if (opts.arch !== undefined && !isDebianArch(opts.arch))
        throw new InvalidInputError(
          `--arch: "${opts.arch}" is not a Debian architecture name (amd64, arm64, armhf, i386, riscv64, …)`,
        );
      const config = loadConfig(io.env);
      const logger = createLogger({ level: 'error', name: 'kiln-submit', pretty: false });
      let pool: Pool | null = createPool(config.KILN_DATABASE_URL, { max: 1, applicationName: 'kiln-submit' });
      try {
        await assertDatabaseReachable(pool, config.KILN_DATABASE_URL);
      } catch (err) {
        io.err(`kiln: warning: ${toError(err).message}\n`);
        await pool.end().catch(() => {});
        pool = null;
      }
      const publisher = new AmqpJobPublisher({
        connect: amqpConnector(config.KILN_AMQP_URL),
        queue: config.KILN_QUEUE,
        deliveryLimit: config.KILN_DELIVERY_LIMIT,
        logger,
      });
      try {
        const result = await submitBuild(
          { repo, branch, ...(opts.arch ? { arch: opts.arch } : {}) },
          { resolve: (r, b) => resolveHead(r, b, { timeoutMs: config.KILN_GIT_TIMEOUT }), pool, publisher },
        );
        for (const warning of result.warnings) io.err(`kiln: warning: ${warning}\n`);
        const { job } = result;
        if (opts.json) {
          io.out(
            `${JSON.stringify({
              id: result.id,
              repo: redactRepo(job.repo),
              branch: job.branch ?? null,
              commit: job.commit ?? null,
              package: job.package ?? null,
              arch: job.arch ?? null,
              recorded: result.recorded,
              published: result.published,
            })}\n`,
          );
        } else {
          io.out(`${result.id}\n`);
        }
        done(result.published ? 0 : 1);
      } finally {
        await publisher.close();
        await pool?.end().catch(() => {});
      }
    });
}
