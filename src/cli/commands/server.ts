import type { Command } from 'commander';
import { createLogger, loadConfig } from '@kiln/shared';
import { startServer } from '@kiln/server';
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

export function registerServer(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('server')
    .description('serve the package database over HTTP: API, live logs, signed package repository')
    .addHelpText(
      'after',
      `
Serves /api/v1 (builds, logs, packages, search; the OpenAPI document at /api/v1/openapi.json)
and the package repository at /repo on KILN_HTTP_HOST:KILN_HTTP_PORT (default 0.0.0.0:8090).
Reads are public unless KILN_HTTP_AUTH=read; writes need a token ("kiln token create").
The repository index is signed with KILN_SIGNING_KEY ("kiln keys generate" makes one).
Run as many as you like behind a load balancer: they share nothing but the database and RabbitMQ.

Examples:
  $ kiln server
  $ KILN_HTTP_PORT=9000 KILN_SIGNING_KEY=/etc/kiln/signing-key.asc kiln server
`,
    )
    .action(async () => {
      const config = loadConfig(io.env);
      const logger = createLogger({ level: config.KILN_LOG_LEVEL, name: 'kiln-server' });
      const running = await startServer(config, { logger });
      io.err(`kiln server: listening on ${running.url}\n`);
      const signal = await untilSignal();
      logger.info({ signal }, 'shutting down');
      await running.close();
      done(0);
    });
}
