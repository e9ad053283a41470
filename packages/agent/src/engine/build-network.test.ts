import { firewallRules, installFirewall } from './build-network.js';

describe('the build network firewall', () => {
  it('lets allowed ranges and the resolvers’ port 53 through, then refuses private ranges and the operator’s list', () => {
    const { chain, hooks } = firewallRules({
      allow: ['10.9.0.0/16'],
      deny: ['203.0.113.0/24'],
      resolvers: ['10.0.0.2'],
    });
    const text = chain.map((r) => r.join(' '));
    expect(text[0]).toBe('-A KILN-BUILD -d 10.9.0.0/16 -j RETURN');
    expect(text.slice(1, 3)).toEqual([
      '-A KILN-BUILD -d 10.0.0.2/32 -p udp --dport 53 -j RETURN',
      '-A KILN-BUILD -d 10.0.0.2/32 -p tcp --dport 53 -j RETURN',
    ]);
    expect(text).toContain('-A KILN-BUILD -d 10.0.0.0/8 -j REJECT');
    expect(text).toContain('-A KILN-BUILD -d 169.254.0.0/16 -j REJECT');
    expect(text.at(-2)).toBe('-A KILN-BUILD -d 203.0.113.0/24 -j REJECT');
    expect(text.at(-1)).toBe('-A KILN-BUILD -j RETURN');
    expect(hooks.map((h) => h.join(' '))).toEqual([
      'DOCKER-USER -i kiln-br0 -j KILN-BUILD',
      'INPUT -i kiln-br0 -j REJECT',
    ]);
  });

  it('is idempotent: hooks already present are not inserted twice', async () => {
    const calls: string[] = [];
    const present = new Set<string>();
    await installFirewall({ allow: [], deny: [] }, async (args) => {
      calls.push(args.join(' '));
      if (args[0] === '-C' && !present.has(args.slice(1).join(' '))) throw new Error('no such rule');
      if (args[0] === '-I') present.add([args[1], ...args.slice(3)].join(' '));
    });
    const inserted = calls.filter((c) => c.startsWith('-I ')).length;
    calls.length = 0;
    await installFirewall({ allow: [], deny: [] }, async (args) => {
      calls.push(args.join(' '));
      if (args[0] === '-C' && !present.has(args.slice(1).join(' '))) throw new Error('no such rule');
    });
    expect(inserted).toBe(2);
    expect(calls.filter((c) => c.startsWith('-I '))).toEqual([]);
    expect(calls[0]).toBe('-N KILN-BUILD');
    expect(calls[1]).toBe('-F KILN-BUILD');
  });
});
