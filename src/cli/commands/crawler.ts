import type { Command } from 'commander';
import { createLogger, loadConfig, toError } from '@kiln/shared';
import { startCrawler } from '@kiln/crawler';
import type { Io } from '../output.js';

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerCrawler(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('crawler')
    .description('watch the configured repositories for release branches; serve webhooks')
    .option('--once', 'run one poll cycle, publish the jobs it found, and exit (for cron)')
    .option('--json', 'with --once: print the cycle as JSON')
    .addHelpText(
      'after',
      `
Watches KILN_REPOS (clone URLs or paths) and every bare repository under KILN_REPO_ROOT,
every KILN_POLL_INTERVAL seconds; a new or moved <name>-<version> branch becomes a queued
build and a job on KILN_QUEUE. Webhooks: POST /webhooks (GitHub, Gitea, GitLab; needs
KILN_WEBHOOK_SECRET) and POST /hooks/post-receive (hooks/post-receive) on KILN_WEBHOOK_PORT.

Examples:
  $ KILN_REPO_ROOT=/srv/git kiln crawler
  $ KILN_REPOS=https://git.example.org/zlib.git KILN_POLL_INTERVAL=30 kiln crawler
  $ kiln crawler --once --json
`,
    )
    .action(async (opts: { once?: boolean; json?: boolean }) => {
      const config = loadConfig(io.env);
      const logger = createLogger({ level: config.KILN_LOG_LEVEL, name: 'kiln-crawler' });
      if (opts.once) {
        const running = await startCrawler(config, logger, { poll: false, serve: false });
        try {
          const stats = await running.crawler.pollOnce();
          let published = 0;
          let unpublished: string | null = null;
          try {
            published = await running.relay.drain();
          } catch (err) {
            unpublished = toError(err).message;
          }
          if (opts.json) io.out(`${JSON.stringify({ ...stats, published, publishError: unpublished })}\n`);
          else
            io.out(
              `checked ${stats.checked} of ${stats.repos} repositories (${stats.failed} failed), ${stats.builds} new builds, ${published} jobs published\n`,
            );
          if (unpublished)
            io.err(`kiln: could not publish every job (${unpublished}); they wait in the outbox for the next run\n`);
          done(stats.failed > 0 || unpublished ? 1 : 0);
        } finally {
          await running.close();
        }
        return;
      }
      const running = await startCrawler(config, logger);
      const signal = await untilSignal();
      logger.info({ signal }, 'shutting down');
      await running.close();
      done(0);
    });
}
