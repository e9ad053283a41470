import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPool, type Pool } from '@kiln/shared';
import { agentEnv } from '../agent-fixtures.js';
import { spawnCli, startOwnRabbit, type CliProcess, type OwnRabbit } from '../crawler-fixtures.js';
import { createTestNetwork, type TestHost, type TestNetwork } from '../netns.js';
import { startOwnPostgres, type OwnPostgres } from '../own-postgres.js';
import { createSmtpSink, freePort, type SmtpSink } from '../smtp-sink.js';

/**
 * A whole farm of the run's own, every part of which a fault may hit: a
 * PostgreSQL cluster, a RabbitMQ node, an SMTP sink (all listening on the test
 * network's service address), a crawler on this machine, and agents each on a
 * test host of its own. Agents and the crawler run under a supervisor, as on
 * a real host: a process that dies (kill -9, or giving up on a broker that is
 * away) is started again after `restartDelayMs`.
 */
export interface FarmOptions {
  agents: number;
  /** Workers per agent. */
  concurrency: number;
  /** KILN_LEASE of the agents. */
  lease: string;
  restartDelayMs?: number;
  /** Where each process's log lines are written at the end (JSON lines, one file per process). */
  logDir?: string;
  /** Where lines worth a human's eye go. */
  say?: (line: string) => void;
}

export interface Supervised {
  name: string;
  current(): CliProcess | undefined;
  /** Kills the process with SIGKILL; the supervisor starts it again. */
  kill9(): Promise<void>;
  /** Every process this supervisor started. */
  all: CliProcess[];
}

export interface FarmAgent extends Supervised {
  host: TestHost;
}

export interface Farm {
  net: TestNetwork;
  pg: OwnPostgres;
  rabbit: OwnRabbit;
  smtp: SmtpSink;
  /** This machine's pool on the farm's database. */
  pool: Pool;
  /** Watched by the crawler. */
  repoRoot: string;
  /** Not watched: repositories that only JSON drops name. */
  dropRoot: string;
  webhookUrl: string;
  webhookSecret: string;
  agents: FarmAgent[];
  crawler: Supervised;
  close(): Promise<void>;
}

function supervise(name: string, spawnOne: () => CliProcess, restartDelayMs: number, say: (l: string) => void) {
  let current: CliProcess | undefined;
  let closed = false;
  const all: CliProcess[] = [];
  const launch = () => {
    if (closed) return;
    const child = spawnOne();
    all.push(child);
    current = child;
    void child.exited.then((code) => {
      if (closed) return;
      const last = child.lines.filter((l) => l.level >= 50).slice(-1)[0];
      const why =
        code === null ? 'killed' : `exit ${code}${last ? `: ${last.msg} ${JSON.stringify(last.err ?? '')}` : ''}`;
      say(`${name} exited (${why.slice(0, 400)}); restarting in ${restartDelayMs} ms`);
      setTimeout(launch, restartDelayMs);
    });
  };
  launch();
  const supervised: Supervised & { close(logDir?: string): Promise<void> } = {
    name,
    all,
    current: () => current,
    async kill9() {
      const child = current;
      if (child?.child.exitCode === null) {
        child.child.kill('SIGKILL');
        await child.exited;
      }
    },
    async close(logDir?: string) {
      closed = true;
      for (const c of all) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      await Promise.all(all.map((c) => c.exited));
      if (logDir) {
        await mkdir(logDir, { recursive: true });
        for (const [i, c] of all.entries())
          await writeFile(path.join(logDir, `${name}.${i + 1}.log`), c.lines.map((l) => JSON.stringify(l)).join('\n'));
      }
    },
  };
  return supervised;
}

export async function startFarm(options: FarmOptions): Promise<Farm> {
  const say = options.say ?? (() => {});
  const restartDelayMs = options.restartDelayMs ?? 2_000;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-chaos-'));
  const repoRoot = path.join(dir, 'repos');
  const dropRoot = path.join(dir, 'drops');
  await mkdir(repoRoot);
  await mkdir(dropRoot);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    // Every step runs even when one fails.
    for (const step of closers.reverse()) await step().catch((err: unknown) => say(`cleanup: ${String(err)}`));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const net = await createTestNetwork();
    closers.push(() => net.close());
    const pg = await startOwnPostgres({ listen: { address: net.serviceAddress, allow: net.cidr } });
    closers.push(() => pg[Symbol.asyncDispose]());
    const rabbit = await startOwnRabbit({ management: true, remote: true });
    closers.push(() => rabbit[Symbol.asyncDispose]());
    const smtp = await createSmtpSink({ host: net.serviceAddress });
    closers.push(() => smtp[Symbol.asyncDispose]());
    const pool = createPool(pg.url, { max: 4 });
    pool.on('error', () => {});
    closers.push(() => pool.end());

    const webhookSecret = 'chaos-webhook-secret';
    const webhookPort = await freePort();
    const crawler = supervise(
      'crawler',
      () =>
        spawnCli(['crawler'], {
          KILN_DATABASE_URL: pg.url,
          KILN_AMQP_URL: `${rabbit.url}?heartbeat=5`,
          KILN_REPO_ROOT: repoRoot,
          KILN_POLL_INTERVAL: '2',
          KILN_WEBHOOK_PORT: String(webhookPort),
          KILN_WEBHOOK_SECRET: webhookSecret,
          KILN_METRICS_PORT: '0',
          KILN_LOG_LEVEL: 'info',
        }),
      restartDelayMs,
      say,
    );
    closers.push(() => crawler.close(options.logDir));

    // Through each host's link; heartbeats short enough that a cut link is noticed in seconds.
    const amqpUrl = `${rabbit.url.replace('127.0.0.1', net.serviceAddress)}?heartbeat=3`;
    const agents: FarmAgent[] = [];
    for (let i = 1; i <= options.agents; i++) {
      const name = `agent-${i}`;
      const host = await net.addHost(name);
      const dirs = await mkdtemp(path.join(dir, `${name}-`));
      const env = agentEnv({
        db: { url: pg.remoteUrl },
        amqpUrl,
        smtpUrl: smtp.url,
        agentId: name,
        concurrency: options.concurrency,
        lease: options.lease,
        grace: '5s',
        dirs,
      });
      const agent = supervise(name, () => spawnCli(['agent'], env, host), restartDelayMs, say);
      closers.push(() => agent.close(options.logDir));
      agents.push({ ...agent, host });
    }
    return {
      net,
      pg,
      rabbit,
      smtp,
      pool,
      repoRoot,
      dropRoot,
      webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/github`,
      webhookSecret,
      agents,
      crawler,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
