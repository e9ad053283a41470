import { execFile, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Test hosts as Linux network namespaces: each host is a namespace joined to
 * this machine by a veth pair, so a process started in it (`ip netns exec`)
 * reaches RabbitMQ, PostgreSQL and the SMTP sink only through its link, like
 * a remote host, and a test can cut the link (partition) and heal it.
 *
 * Addresses come from the benchmarking range 198.18.0.0/15: one /24 per run,
 * picked at random among those no interface uses. The services' address is
 * `<net>.1`, put on this machine's loopback for the run (no veth owns it, so
 * cutting one host's link leaves the others their way to it); host n's link
 * is the /30 `<net>.4n` (`.4n+1` on this side, `.4n+2` inside). Everything
 * made is named `kt<run>…`, and is removed by `close()`, and by a handler on
 * process exit for a test that dies first.
 */
export interface TestHost {
  name: string;
  /** The namespace (for `ip netns exec`). */
  netns: string;
  /** This host's own address, inside its namespace. */
  address: string;
  /** Argv prefix that runs a command on this host. */
  exec(command: string, args: string[]): [string, string[]];
  /** Cuts the link: nothing in or out until `heal()`. */
  partition(): Promise<void>;
  heal(): Promise<void>;
}

export interface TestNetwork {
  /** The address the services listen on, as the hosts reach it. */
  serviceAddress: string;
  /** CIDR that covers every host of this run (for pg_hba and the like). */
  cidr: string;
  addHost(name: string): Promise<TestHost>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args);
  return stdout;
}

/** Third octet of a /24 in 198.18.0.0/15 that no address on this machine uses. */
async function freeSubnet(): Promise<string> {
  const used = await ip('-o', '-4', 'addr', 'show');
  for (let tries = 0; tries < 50; tries++) {
    const net = `198.${18 + randomInt(2)}.${randomInt(256)}`;
    if (!used.includes(` ${net}.`)) return net;
  }
  throw new Error('no free /24 in 198.18.0.0/15');
}

export async function createTestNetwork(): Promise<TestNetwork> {
  const net = await freeSubnet();
  const run = `kt${randomInt(36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
  const serviceAddress = `${net}.1`;
  const namespaces: string[] = [];
  const links: string[] = [];
  let serviceUp = false;

  // Synchronous, so it also runs from an 'exit' handler.
  const removeAll = (): void => {
    const quiet = (args: string[]) => {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    };
    for (const link of links.splice(0)) quiet(['link', 'del', link]);
    for (const ns of namespaces.splice(0)) quiet(['netns', 'del', ns]);
    if (serviceUp) quiet(['addr', 'del', `${serviceAddress}/32`, 'dev', 'lo']);
    serviceUp = false;
  };
  process.once('exit', removeAll);

  await ip('addr', 'add', `${serviceAddress}/32`, 'dev', 'lo');
  serviceUp = true;

  const network: TestNetwork = {
    serviceAddress,
    cidr: `${net}.0/24`,
    async addHost(name) {
      const n = namespaces.length + 1;
      if (n > 63) throw new Error('a test network holds at most 63 hosts');
      const netns = `${run}-${name}`.slice(0, 30);
      const outside = `${run}h${n}`;
      const inside = `${run}n${n}`;
      const here = `${net}.${4 * n + 1}`;
      const address = `${net}.${4 * n + 2}`;
      await ip('netns', 'add', netns);
      namespaces.push(netns);
      await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      links.push(outside);
      await ip('link', 'set', inside, 'netns', netns);
      await ip('addr', 'add', `${here}/30`, 'dev', outside);
      await ip('link', 'set', outside, 'up');
      const inNs = (...args: string[]) => ip('netns', 'exec', netns, 'ip', ...args);
      await inNs('link', 'set', 'lo', 'up');
      await inNs('addr', 'add', `${address}/30`, 'dev', inside);
      await inNs('link', 'set', inside, 'up');
      await inNs('route', 'add', `${serviceAddress}/32`, 'via', here);
      return {
        name,
        netns,
        address,
        exec: (command, args) => ['ip', ['netns', 'exec', netns, command, ...args]],
        // Down on both ends: packets already in flight are dropped, nothing new leaves either side.
        async partition() {
          await ip('link', 'set', outside, 'down');
          await inNs('link', 'set', inside, 'down');
        },
        async heal() {
          await ip('link', 'set', outside, 'up');
          await inNs('link', 'set', inside, 'up');
          // A link that went down lost its routes with it.
          await inNs('route', 'replace', `${serviceAddress}/32`, 'via', here);
        },
      };
    },
    async close() {
      removeAll();
      process.off('exit', removeAll);
    },
    async [Symbol.asyncDispose]() {
      await network.close();
    },
  };
  return network;
}
