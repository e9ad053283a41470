import type { Command } from 'commander';
import { InvalidInputError, createLogger, loadConfig } from '@kiln/shared';
import { createDockerEngine, engineOptionsFromConfig, startAgent } from '@kiln/agent';
import type { Io } from '../output.js';

export function registerAgent(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('agent')
    .description('consume build_queue and build jobs')
    .option('-c, --concurrency <n>', 'workers (default: KILN_CONCURRENCY or the number of cores)')
    .addHelpText(
      'after',
      `
Each worker takes one job at a time from KILN_QUEUE, builds it in fresh Docker
containers and records the result in the package database. Run as many agents
on as many hosts as you like: they share the queue. On SIGTERM or SIGINT the
agent stops taking jobs, lets running builds finish for KILN_SHUTDOWN_GRACE,
then requeues them. A second signal stops the running builds at once.
/metrics and /healthz are served on KILN_METRICS_PORT.

Examples:
  $ kiln agent
  $ KILN_AMQP_URL=amqp://kiln:secret@mq.example.org kiln agent --concurrency 4
`,
    )
    .action(async (opts: { concurrency?: string }) => {
      const config = loadConfig(io.env);
      let concurrency = config.KILN_CONCURRENCY;
      if (opts.concurrency !== undefined) {
        concurrency = Number(opts.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
          throw new InvalidInputError(`--concurrency must be a whole number from 1 to 256 (got "${opts.concurrency}")`);
        }
      }
      const logger = createLogger({ level: config.KILN_LOG_LEVEL, name: 'kiln-agent' });
      const engine = createDockerEngine({ ...engineOptionsFromConfig(config), logger });
      const agent = await startAgent(config, { logger, concurrency, engine, env: io.env });

      let signals = 0;
      const stopping = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          signals++;
          if (signals === 1) {
            logger.info({ signal }, 'stopping: no new jobs; running builds may finish');
            resolve();
          } else {
            logger.warn({ signal }, 'second signal: stopping running builds now');
            agent.service.abortRunningBuilds();
          }
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      try {
        await Promise.race([stopping, agent.failed]);
      } finally {
        await agent.stop();
      }
      done(0);
    });
}
