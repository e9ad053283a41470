import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { InfrastructureError, toError, type Logger } from '@kiln/shared';
import type { ContainerRuntime } from './container-runtime.js';
import { LABEL } from './labels.js';

const run = promisify(execFile);

/** Kiln's own Docker network for the build phases that get a network, and its Linux bridge. */
export const BUILD_NETWORK = 'kiln-build';
export const BUILD_BRIDGE = 'kiln-br0';
const CHAIN = 'KILN-BUILD';

/**
 * Ranges a build never reaches (unless the operator allows one): private,
 * shared, link-local (cloud metadata), loopback, multicast and reserved.
 * The host itself is refused on every address by the INPUT rule.
 */
export const FORBIDDEN_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
];

export interface FirewallOptions {
  /** Ranges reachable although forbidden above (a private package mirror). */
  allow: readonly string[];
  /** Further ranges to refuse: the farm's services on other hosts. */
  deny: readonly string[];
  /**
   * The host's DNS servers, reachable on port 53 only: Docker's embedded DNS
   * forwards a build's queries to them from inside the build's namespace.
   */
  resolvers?: readonly string[];
}

/** Runs one iptables command; a seam so the rule set can be unit-tested. */
export type IptablesRunner = (args: string[]) => Promise<void>;

export const runIptables: IptablesRunner = async (args) => {
  await run('iptables', ['-w', '5', ...args], { timeout: 15_000 });
};

/**
 * KILN_BUILD_FIREWALL=external: another process (`kiln network setup` on the
 * host) installs the rules; this one changes nothing. It cannot see the host's
 * tables from a container, so it trusts the operator's setup.
 */
export const checkOnly: IptablesRunner = async () => undefined;

/**
 * The rules, in order. Connections a build opens to the host (any of its
 * addresses: the bridge gateway, docker0, its public address) arrive on the
 * INPUT chain and are refused; connections elsewhere cross DOCKER-USER and
 * meet KILN-BUILD, which refuses the forbidden ranges. Name resolution still
 * works: on a user-defined network Docker answers DNS inside the container
 * and resolves from its own process, outside these chains.
 */
export function firewallRules(options: FirewallOptions): { chain: string[][]; hooks: string[][] } {
  const chain = [
    ...options.allow.map((cidr) => ['-A', CHAIN, '-d', cidr, '-j', 'RETURN']),
    ...(options.resolvers ?? []).flatMap((ip) =>
      ['udp', 'tcp'].map((proto) => ['-A', CHAIN, '-d', `${ip}/32`, '-p', proto, '--dport', '53', '-j', 'RETURN']),
    ),
    ...[...FORBIDDEN_RANGES, ...options.deny].map((cidr) => ['-A', CHAIN, '-d', cidr, '-j', 'REJECT']),
    ['-A', CHAIN, '-j', 'RETURN'],
  ];
  const hooks = [
    ['DOCKER-USER', '-i', BUILD_BRIDGE, '-j', CHAIN],
    ['INPUT', '-i', BUILD_BRIDGE, '-j', 'REJECT'],
  ];
  return { chain, hooks };
}

/** Installs (or refreshes) the rules; idempotent, so every agent of a host may run it at start. */
export async function installFirewall(options: FirewallOptions, iptables: IptablesRunner = runIptables): Promise<void> {
  const { chain, hooks } = firewallRules(options);
  await iptables(['-N', CHAIN]).catch(() => undefined); // exists already
  await iptables(['-F', CHAIN]);
  for (const rule of chain) await iptables(rule);
  for (const [hookChain, ...rule] of hooks) {
    const present = await iptables(['-C', hookChain!, ...rule]).then(
      () => true,
      () => false,
    );
    if (!present) await iptables(['-I', hookChain!, '1', ...rule]);
  }
}

/**
 * The network a networked build phase joins, made ready once per process:
 * the Docker network (no traffic between its containers) and the firewall.
 */
export class BuildIsolation {
  private ready: Promise<string> | null = null;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly firewall: FirewallOptions,
    private readonly iptables: IptablesRunner = runIptables,
    private readonly logger?: Logger,
  ) {}

  /** The Docker network's name, once it exists and is firewalled. */
  network(): Promise<string> {
    this.ready ??= this.setUp().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async setUp(): Promise<string> {
    await this.runtime.ensureNetwork(BUILD_NETWORK, {
      bridge: BUILD_BRIDGE,
      labels: { [LABEL.role]: 'build-network' },
    });
    try {
      const resolvers = this.firewall.resolvers ?? (await hostResolvers());
      await installFirewall({ ...this.firewall, resolvers }, this.iptables);
    } catch (err) {
      throw new InfrastructureError(
        `cannot firewall the build network ${BUILD_NETWORK} (${toError(err).message.split('\n')[0]}): ` +
          'run Kiln as root with iptables, or set KILN_NETWORK=none (no network) or bridge (unfiltered)',
        { cause: err },
      );
    }
    this.logger?.info({ network: BUILD_NETWORK, bridge: BUILD_BRIDGE }, 'build network ready and firewalled');
    return BUILD_NETWORK;
  }
}

/** The IPv4 name servers of the host's /etc/resolv.conf (none when it cannot be read). */
export async function hostResolvers(file = '/etc/resolv.conf'): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return [...text.matchAll(/^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/gm)].map((m) => m[1]!);
}
