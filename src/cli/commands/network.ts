import type { Command } from 'commander';
import { loadConfig } from '@kiln/shared';
import { BUILD_BRIDGE, BUILD_NETWORK, setUpBuildNetwork } from '@kiln/agent/engine';
import { EXIT, type Io } from '../output.js';

/**
 * `kiln network setup`: makes Kiln's isolated build network and installs its
 * firewall on this host, for agents that cannot do it themselves (an agent in
 * a container: docker compose runs this once with the host's network).
 */
export function registerNetwork(program: Command, io: Io, done: (code: number) => void): void {
  const network = program.command('network').description("Kiln's isolated build network on this host");
  network
    .command('setup')
    .description(`create the ${BUILD_NETWORK} network and install its firewall (as root, on the host's network)`)
    .addHelpText(
      'after',
      `
Agents do this themselves at start (KILN_BUILD_FIREWALL=agent). Where an agent
runs in a container, run it on the host instead and set KILN_BUILD_FIREWALL=external.

Example:
  $ sudo KILN_BUILD_NETWORK_DENY=203.0.113.10/32 kiln network setup
`,
    )
    .action(async () => {
      await setUpBuildNetwork(loadConfig(io.env));
      io.out(`${BUILD_NETWORK} (bridge ${BUILD_BRIDGE}) is ready and firewalled\n`);
      done(EXIT.ok);
    });
}
