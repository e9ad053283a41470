import type { ServerResponse } from 'node:http';

/**
 * Server-sent events on a raw response: `id`, `event` and `data` lines per
 * event (data split on newlines, as the format requires), a comment every
 * `keepAliveMs` so proxies keep the connection, and backpressure honoured.
 */
export class SseWriter {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    keepAliveMs = 15_000,
  ) {
    this.timer = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    this.timer.unref();
  }

  /** Resolves once the socket took the event (or is gone). */
  async send(event: string, data: unknown, id?: string): Promise<void> {
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    const lines = text.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
    const frame = `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines.join('')}\n`;
    if (this.res.write(frame)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }

  end(): void {
    clearInterval(this.timer);
    if (!this.res.writableEnded) this.res.end();
  }
}
