import { Writable } from 'node:stream';
import { pino } from 'pino';
import { connectAmqp, declareBuildQueue, type ChannelModel, type Logger, type Pool } from '@kiln/shared';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger whose JSON lines a test can read. */
export function captureLogs(level = 'debug'): { logger: Logger; lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

export async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TakenMessage {
  body: Record<string, unknown>;
  messageId: string | undefined;
  deliveryMode: number | undefined;
  contentType: string | undefined;
}

/** Reads the build queue of a test vhost (consuming what it reads). */
export class QueueReader {
  private constructor(private readonly model: ChannelModel) {}

  static async open(url: string): Promise<QueueReader> {
    const model = await connectAmqp(url);
    model.on('error', () => {});
    // Declared the way Kiln declares it, so the reader can start before the crawler.
    const channel = await model.createChannel();
    await declareBuildQueue(channel, { queue: 'build_queue', deliveryLimit: 5 });
    await channel.close();
    return new QueueReader(model);
  }

  /** Everything in the queue right now. */
  async drain(queue = 'build_queue'): Promise<TakenMessage[]> {
    const channel = await this.model.createChannel();
    channel.on('error', () => {});
    try {
      const taken: TakenMessage[] = [];
      for (;;) {
        const msg = await channel.get(queue, { noAck: true });
        if (!msg) return taken;
        taken.push({
          body: JSON.parse(msg.content.toString('utf8')) as Record<string, unknown>,
          messageId: msg.properties.messageId as string | undefined,
          deliveryMode: msg.properties.deliveryMode as number | undefined,
          contentType: msg.properties.contentType as string | undefined,
        });
      }
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Waits until at least `n` messages were taken in total. */
  async take(n: number, timeoutMs = 20_000, queue = 'build_queue'): Promise<TakenMessage[]> {
    const taken: TakenMessage[] = [];
    await waitFor(async () => {
      taken.push(...(await this.drain(queue)));
      return taken.length >= n;
    }, `${n} message(s) on ${queue}`, timeoutMs);
    return taken;
  }

  async close(): Promise<void> {
    await this.model.close().catch(() => {});
  }
}

export interface BuildRow {
  id: string;
  repo: string;
  branch: string | null;
  commit: string | null;
  package_name: string | null;
  package_version: string | null;
  trigger: string;
  status: string;
}

export async function buildRows(pool: Pool): Promise<BuildRow[]> {
  const { rows } = await pool.query<BuildRow>(
    'SELECT id, repo, branch, commit, package_name, package_version, trigger, status FROM builds ORDER BY queued_at, branch',
  );
  return rows;
}
