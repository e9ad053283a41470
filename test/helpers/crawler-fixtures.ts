import { managementApi, type QueueStats } from './broker.js';
import { kilnCommand } from './cli.js';
import { waitFor } from './wait.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { connectAmqp, declareBuildQueue, type BrokerConnection, type Logger, type Pool } from '@kiln/shared';

const run = promisify(execFile);

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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TakenMessage {
  body: Record<string, unknown>;
  messageId: string | undefined;
  deliveryMode: number | undefined;
  contentType: string | undefined;
}

/** Reads the build queue of a test vhost (consuming what it reads). */
export class QueueReader {
  private constructor(private readonly model: BrokerConnection) {}

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

  /**
   * Waits for `n` messages and fails when more than `n` have arrived by then:
   * a double publish shows up instead of hiding behind the first `n`.
   */
  async take(n: number, timeoutMs = 20_000, queue = 'build_queue'): Promise<TakenMessage[]> {
    const taken = await this.takeAtLeast(n, timeoutMs, queue);
    if (taken.length !== n) {
      const ids = taken.map((m) => m.messageId ?? JSON.stringify(m.body)).join(', ');
      throw new Error(`expected ${n} message(s) on ${queue}, got ${taken.length}: ${ids}`);
    }
    return taken;
  }

  /** Waits until at least `n` messages were taken in total, and returns all of them (for at-least-once paths). */
  async takeAtLeast(n: number, timeoutMs = 20_000, queue = 'build_queue'): Promise<TakenMessage[]> {
    const taken: TakenMessage[] = [];
    await waitFor(
      async () => {
        taken.push(...(await this.drain(queue)));
        return taken.length >= n;
      },
      `${n} message(s) on ${queue}`,
      timeoutMs,
    );
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

/** Kiln's CLI as a real child process (the global setup's build), with its JSON log lines readable. */
export interface CliProcess {
  child: ChildProcess;
  lines: LogLine[];
  stdout(): string;
  waitForLog(test: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | null>;
}

/** `on` runs it on a test host instead (see netns.ts): it gets `[command, args]` and returns the argv to spawn. */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
  on?: { exec(command: string, args: string[]): [string, string[]] },
): CliProcess {
  const command = kilnCommand(...args);
  const child = spawn(...(on ? on.exec(...command) : command), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let out = '';
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        lines.push({ level: 60, msg: part });
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    stdout: () => out,
    exited,
    waitForLog: (test, what, timeoutMs) => waitFor(() => lines.find(test), what, timeoutMs),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A RabbitMQ node of the test's own (never the shared one), so a test can
 * stop and start a broker under a running crawler or agent. With
 * `management`, it serves the management API on a port of its own and
 * samples queue counts every 500 ms (the shared node: every 5 s).
 */
export interface OwnRabbit {
  url: string;
  /** The broker's counts for a queue of the default vhost; only with `management`. */
  queueStats(queue?: string): Promise<QueueStats | null>;
  stop(): Promise<void>;
  start(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startOwnRabbit(
  options: { management?: boolean; /** Let guest in from test hosts, not only from loopback. */ remote?: boolean } = {},
): Promise<OwnRabbit> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-rabbit-'));
  const [port, distPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  await writeFile(path.join(dir, 'enabled_plugins'), options.management ? '[rabbitmq_management].\n' : '[].\n');
  await writeFile(
    path.join(dir, 'rabbitmq.conf'),
    [
      'management.tcp.ip = 127.0.0.1',
      `management.tcp.port = ${apiPort}`,
      'collect_statistics_interval = 500',
      ...(options.remote ? ['loopback_users = none'] : []),
      '',
    ].join('\n'),
  );
  const node = `kilntest-${randomBytes(4).toString('hex')}@localhost`;
  const pidFile = path.join(dir, 'pid');
  // The Debian wrapper runs the node as the rabbitmq user when started by root.
  if (process.getuid?.() === 0) await run('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_PID_FILE: pidFile,
  };
  const api = managementApi(`http://127.0.0.1:${apiPort}/api`);
  let up = false;
  const rabbit: OwnRabbit = {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    async queueStats(queue = 'build_queue') {
      if (!options.management) throw new Error('startOwnRabbit({ management: true }) serves the management API');
      return api.queueStats('/', queue);
    },
    async start() {
      await run('rabbitmq-server', ['-detached'], { env, cwd: dir });
      await run('rabbitmqctl', ['-n', node, 'wait', pidFile, '--timeout', '60'], { env });
      if (options.management)
        await waitFor(
          () =>
            api.request('GET', '/overview').then(
              () => true,
              () => false,
            ),
          'the management API',
          60_000,
        );
      up = true;
    },
    async stop() {
      await run('rabbitmqctl', ['-n', node, 'stop', pidFile], { env });
      up = false;
    },
    async [Symbol.asyncDispose]() {
      if (up) await rabbit.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  await rabbit.start();
  return rabbit;
}

export { waitFor };
