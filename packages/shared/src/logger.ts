import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs: JSON lines by default (for collectors), pretty on a
 * terminal. Child loggers carry `{ buildId, stage }`.
 */
export function createLogger(
  options: { level?: string; name?: string; pretty?: boolean; destination?: number } = {},
): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const level = options.level ?? 'info';
  const destination = options.destination ?? 2;
  if (pretty) {
    return pino({
      level,
      name: options.name,
      transport: { target: 'pino-pretty', options: { destination, colorize: true, ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, name: options.name }, pino.destination({ fd: destination, sync: true }));
}
