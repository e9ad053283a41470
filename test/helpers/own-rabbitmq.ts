import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './smtp-sink.js';

const run = promisify(execFile);

/**
 * RabbitMQ nodes of the test's own, never the shared node on 5672/15672: own
 * Erlang node names (`kiln-t<owner pid>x<random>-<n>@localhost`), AMQP and
 * distribution ports, data and log folders in a temporary folder, and a cookie
 * shared only by the nodes of one cluster. No management plugin (it costs
 * seconds of boot and two more ports): `ctl()` runs rabbitmqctl against the
 * node, and queue facts come from there.
 *
 * Boot is made as short as RabbitMQ allows: an Erlang-term config (no
 * cuttlefish schema pass), and a plugins folder that holds only the
 * applications `rabbit` needs, so the boot-time scan of every module's
 * attributes (feature flags, boot steps) reads 21 applications instead of 65.
 * A cluster's nodes start in parallel and join the first by classic peer
 * discovery while they boot (no stop_app/join_cluster/start_app round).
 *
 * Clean-up: `[Symbol.asyncDispose]` (call it in afterAll), a synchronous kill
 * of every node this process started on exit or SIGINT/SIGTERM, and a reaper
 * that, whenever a test starts a node, kills nodes whose owner process is gone
 * (found by the owner pid in their home folder's name, as testcontainers finds
 * its containers by label).
 */
export interface OwnRabbitNode {
  /** The Erlang node name, for `rabbitmqctl -n`. */
  readonly name: string;
  /** The address the AMQP listener binds (`listen` option). */
  readonly host: string;
  readonly port: number;
  readonly distPort: number;
  /** `amqp://guest:guest@<host>:<port>` (the default vhost `/`). */
  readonly url: string;
  /** The URL through another address, e.g. a test host's veth address when listening on 0.0.0.0. */
  urlVia(host: string, vhost?: string): string;
  readonly dir: string;
  running(): boolean;
  /** The beam process id while running. */
  pid(): number | undefined;
  /** Starts the node and waits until it accepts AMQP connections. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM, as systemd or Docker would); waits for the process to end. */
  stop(): Promise<void>;
  /** kill -9 of the node's whole process group. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** rabbitmqctl (or another CLI: `ctl(['list_queues'], 'rabbitmq-queues')`) against this node; stdout. */
  ctl(args: string[], tool?: string): Promise<string>;
  /** The end of the node's log, for a failing test's message. */
  logTail(lines?: number): string;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface OwnRabbitCluster {
  readonly nodes: OwnRabbitNode[];
  /** One URL per node. */
  readonly urls: string[];
  /** The node URLs comma-separated, as KILN_AMQP_URL takes them. */
  readonly url: string;
  /** Replica and leader of a quorum queue, asked of any running node. */
  quorumQueue(queue: string, vhost?: string): Promise<{ leader: OwnRabbitNode; members: OwnRabbitNode[] }>;
  /** rabbitmqctl against the first running node. */
  ctl(args: string[], tool?: string): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface OwnRabbitOptions {
  /** The address the AMQP listener binds: 127.0.0.1 (default), a veth address, or 0.0.0.0. */
  listen?: string;
}

const RABBIT_HOME = process.env.KILN_TEST_RABBITMQ_HOME ?? '/usr/lib/rabbitmq';
const TMP_PREFIX = 'kiln-rabbit-';
const BOOT_TIMEOUT_MS = 180_000;
const live = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHooks = false;

export async function startOwnRabbitNode(options: OwnRabbitOptions = {}): Promise<OwnRabbitNode> {
  const [node] = await startNodes(1, options);
  return node!;
}

/** `size` nodes started together, the others joined to the first; `build_queue` declared afterwards gets all of them. */
export async function startOwnRabbitCluster(size = 3, options: OwnRabbitOptions = {}): Promise<OwnRabbitCluster> {
  const nodes = await startNodes(size, options);
  const cluster: OwnRabbitCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    url: nodes.map((n) => n.url).join(','),
    async ctl(args, tool) {
      const node = nodes.find((n) => n.running());
      if (!node) throw new Error('no node of the cluster is running');
      return node.ctl(args, tool);
    },
    async quorumQueue(queue, vhost = '/') {
      const out = await cluster.ctl(['list_queues', '-p', vhost, 'name', 'leader', 'members', '--formatter', 'json']);
      const rows = JSON.parse(out) as { name: string; leader: string; members: string[] }[];
      const row = rows.find((r) => r.name === queue);
      if (!row) throw new Error(`no queue ${queue} in vhost ${vhost}: ${out}`);
      const byName = (name: string): OwnRabbitNode => {
        const node = nodes.find((n) => n.name === name);
        if (!node) throw new Error(`queue ${queue} lives on ${name}, not a node of this cluster`);
        return node;
      };
      return { leader: byName(row.leader), members: row.members.map(byName) };
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
    },
  };
  try {
    await waitForMembers(cluster, size);
  } catch (err) {
    await cluster[Symbol.asyncDispose]();
    throw err;
  }
  return cluster;
}

async function startNodes(size: number, options: OwnRabbitOptions): Promise<OwnRabbitNode[]> {
  installExitHooks();
  reapOrphans();
  const dir = await mkdtemp(path.join(os.tmpdir(), `${TMP_PREFIX}${process.pid}-`));
  ownedDirs.add(dir);
  const cookie = randomBytes(16).toString('hex').toUpperCase();
  await writeFile(path.join(dir, '.erlang.cookie'), cookie);
  await chmod(path.join(dir, '.erlang.cookie'), 0o400);
  const plugins = await minimalPluginsDir(dir);
  const prefix = `kiln-t${process.pid}x${randomBytes(3).toString('hex')}`;
  const names = Array.from({ length: size }, (_, i) => `${prefix}-${i + 1}@localhost`);
  const nodes: OwnRabbitNode[] = [];
  for (const [i, name] of names.entries()) {
    const peers = i === 0 ? [] : [names[0]!];
    nodes.push(await defineNode({ dir, name, plugins, peers, listen: options.listen ?? '127.0.0.1' }));
  }
  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (err) {
    await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]()));
    throw err;
  }
  return nodes;
}

interface NodeSpec {
  dir: string;
  name: string;
  plugins: string;
  peers: string[];
  listen: string;
}

async function defineNode(spec: NodeSpec): Promise<OwnRabbitNode> {
  const short = spec.name.split('@')[0]!;
  const home = path.join(spec.dir, short);
  await mkdir(home, { recursive: true });
  const port = await freePort();
  const distPort = await freePort();
  const configFile = path.join(home, 'rabbitmq.config');
  // cluster_nodes + a long discovery retry: a joining node waits for the first
  // to boot instead of forming a cluster of its own.
  const peers = spec.peers.map((p) => `'${p}'`).join(',');
  await writeFile(
    configFile,
    `[{rabbit, [
  {tcp_listeners, [{"${spec.listen}", ${port}}]},
  {loopback_users, []},
  {consumer_timeout, 86400000},
  {collect_statistics_interval, 1000},
  {log, [{file, [{level, ${process.env.KILN_TEST_RABBIT_LOG_LEVEL ?? 'info'}}]}]},
  {cluster_nodes, {[${peers}], disc}},
  {cluster_formation, [{discovery_retry_limit, 240}, {discovery_retry_interval, 500}]}
 ]},
 {kernel, [{inet_dist_use_interface, {127,0,0,1}}]}
].
`,
  );
  await writeFile(path.join(home, 'enabled_plugins'), '[].\n');
  await writeFile(path.join(home, 'rabbitmq-env.conf'), '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: spec.dir,
    RABBITMQ_NODENAME: spec.name,
    RABBITMQ_USE_LONGNAME: 'false',
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: configFile,
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(home, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(home, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(home, 'enabled_plugins'),
    RABBITMQ_PLUGINS_DIR: spec.plugins,
    RABBITMQ_PLUGINS_EXPAND_DIR: path.join(home, 'plugins-expand'),
    RABBITMQ_MNESIA_BASE: path.join(home, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(home, 'log'),
    RABBITMQ_FEATURE_FLAGS_FILE: path.join(home, 'feature_flags'),
    RABBITMQ_PID_FILE: path.join(home, 'pid'),
    RABBITMQ_LOGS: path.join(home, 'log', 'node.log'),
  };
  const urlHost = spec.listen === '0.0.0.0' ? '127.0.0.1' : spec.listen;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const beamPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(path.join(home, 'pid'), 'utf8').trim());
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };

  const node: OwnRabbitNode = {
    name: spec.name,
    host: spec.listen,
    port,
    distPort,
    url: `amqp://guest:guest@${urlHost}:${port}`,
    urlVia: (host, vhost) => `amqp://guest:guest@${host}:${port}${vhost ? `/${encodeURIComponent(vhost)}` : ''}`,
    dir: home,
    running: () => child !== undefined,
    pid: () => (child ? beamPid() : undefined),
    async start() {
      if (child) return;
      const proc = spawn(path.join(RABBIT_HOME, 'bin', 'rabbitmq-server'), [], {
        env,
        cwd: home,
        detached: true,
        stdio: 'ignore',
      });
      child = proc;
      live.add(proc);
      exited = new Promise((resolve) => {
        proc.once('exit', () => {
          live.delete(proc);
          if (child === proc) child = undefined;
          resolve();
        });
      });
      const deadline = Date.now() + BOOT_TIMEOUT_MS;
      for (;;) {
        if (child !== proc) throw new Error(`RabbitMQ node ${spec.name} exited while booting:\n${node.logTail()}`);
        if (await acceptsAmqp(urlHost, port)) return;
        if (Date.now() > deadline) {
          await node.kill();
          throw new Error(`RabbitMQ node ${spec.name} did not boot in ${BOOT_TIMEOUT_MS} ms:\n${node.logTail()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!child) return;
      signalGroup('SIGTERM');
      const timeout = setTimeout(() => signalGroup('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timeout);
    },
    async kill() {
      if (!child) return;
      signalGroup('SIGKILL');
      await exited;
    },
    async restart() {
      await node.stop();
      await node.start();
    },
    async ctl(args, tool = 'rabbitmqctl') {
      const { stdout } = await run(path.join(RABBIT_HOME, 'bin', tool), ['-q', '-n', spec.name, ...args], {
        env: { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: spec.dir },
        timeout: 60_000,
      });
      return stdout;
    },
    logTail(lines = 40) {
      try {
        return readFileSync(path.join(home, 'log', 'node.log'), 'utf8')
          .split('\n')
          .slice(-lines)
          .join('\n');
      } catch {
        return '(no log yet)';
      }
    },
    async [Symbol.asyncDispose]() {
      await node.kill();
      await rm(spec.dir, { recursive: true, force: true });
      ownedDirs.delete(spec.dir);
    },
  };
  return node;
}

/** True once the node answers the AMQP protocol header with its own (its listeners open last in boot). */
async function acceptsAmqp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.once('data', (data) => done(data.length > 0));
  });
}

async function waitForMembers(cluster: OwnRabbitCluster, size: number): Promise<void> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = await cluster.ctl(['cluster_status', '--formatter', 'json']).catch((err: Error) => err.message);
    try {
      const status = JSON.parse(last) as { running_nodes?: string[] };
      if ((status.running_nodes?.length ?? 0) >= size) return;
    } catch {
      // Not JSON yet: the CLI's error; try again.
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the cluster did not form with ${size} running nodes: ${last}`);
}

/**
 * A plugins folder holding only `rabbit` and the applications it needs
 * (read from the .app files, so another RabbitMQ version works the same).
 */
async function minimalPluginsDir(dir: string): Promise<string> {
  const lib = path.join(RABBIT_HOME, 'lib');
  const server = readdirSync(lib).find((d) => d.startsWith('rabbitmq_server-'));
  if (!server) throw new Error(`no rabbitmq_server-* under ${lib}: is RabbitMQ installed? (KILN_TEST_RABBITMQ_HOME)`);
  const source = path.join(lib, server, 'plugins');
  const folders = new Map<string, string>();
  for (const entry of readdirSync(source)) {
    const match = /^(.+)-[0-9][^-]*$/.exec(entry);
    if (match && existsSync(path.join(source, entry, 'ebin'))) folders.set(match[1]!, entry);
  }
  const needed = new Set<string>();
  const visit = async (app: string): Promise<void> => {
    const folder = folders.get(app);
    if (!folder || needed.has(app)) return; // OTP's own applications live in Erlang's lib.
    needed.add(app);
    const spec = await readFile(path.join(source, folder, 'ebin', `${app}.app`), 'utf8');
    const list = /\{\s*applications\s*,\s*\[([^\]]*)\]/.exec(spec)?.[1] ?? '';
    for (const dep of list.split(',').map((s) => s.trim())) if (dep) await visit(dep);
  };
  await visit('rabbit');
  await visit('rabbitmq_prelaunch');
  const plugins = path.join(dir, 'plugins');
  await mkdir(plugins);
  for (const app of needed) await symlink(path.join(source, folders.get(app)!), path.join(plugins, folders.get(app)!));
  return plugins;
}

function killAllNow(): void {
  for (const proc of live) {
    try {
      if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
}

function installExitHooks(): void {
  if (exitHooks) return;
  exitHooks = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllNow();
      process.kill(process.pid, signal);
    });
  }
}

/** Kills nodes (and removes folders) left by test processes that died without cleaning up. */
function reapOrphans(): void {
  const tmp = os.tmpdir();
  const owner = new RegExp(`-home ${escapeRegExp(path.join(tmp, TMP_PREFIX))}(\\d+)-`);
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    const match = cmdline.includes('beam') ? owner.exec(cmdline) : null;
    if (match && !alive(Number(match[1]))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
  for (const entry of readdirSync(tmp)) {
    const match = new RegExp(`^${TMP_PREFIX}(\\d+)-`).exec(entry);
    if (match && !alive(Number(match[1]))) rmSync(path.join(tmp, entry), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
