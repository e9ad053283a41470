/**
 * Builds cannot reach the farm: prepare gets Kiln's isolated network (Debian
 * packages install; the host and private ranges are refused), later stages
 * get none unless the manifest asks and the operator allows. Real Docker,
 * real iptables, real listeners standing in for the farm's services.
 */
import net from 'node:net';
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { EngineHarness, logText } from './fixtures/engine/harness.js';

const h = new EngineHarness();
const DEBIAN = 'debian:bookworm';
let listeners: net.Server[] = [];
/** What a build would try: RabbitMQ and its management API, plus stand-ins for the crawler and agent metrics. */
let ports: Record<string, number>;
let targets: string[];

beforeAll(async () => {
  const listen = async (): Promise<number> => {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('farm service\n');
    });
    listeners.push(server);
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    return (server.address() as net.AddressInfo).port;
  };
  ports = { rabbitmq: 5672, management: 15672, crawler: await listen(), metrics: await listen() };
  const hostAddresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
  // The host's resolver, when it is on a private range: a farm service stand-in off the host.
  const resolver = /^nameserver\s+(10\.\S+|172\.(1[6-9]|2\d|3[01])\.\S+|192\.168\.\S+)/m.exec(
    await readFile('/etc/resolv.conf', 'utf8'),
  )?.[1];
  targets = [
    ...hostAddresses.flatMap((ip) => Object.values(ports).map((port) => `${ip}:${port}`)),
    // The gateway of Kiln's network (the host) and of Docker's default bridge.
    ...Object.values(ports).map((port) => `GATEWAY:${port}`),
    // Port 53 of it is open to builds (Docker's DNS forwards through it); nothing else.
    ...(resolver ? [`${resolver}:443`, `${resolver}:5672`] : []),
  ];
});
afterAll(async () => {
  for (const server of listeners) server.close();
  listeners = [];
  await h.dispose();
});
afterEach(async () => {
  expect(await h.leftovers()).toEqual([]);
});

/** One line per target: OPEN or CLOSED, tried with bash's /dev/tcp (3 s each). POSIX sh around it: the stage shell is dash. */
function probe(): string {
  return [
    `g=$(awk '$2=="00000000" {print $3; exit}' /proc/net/route)`,
    `if [ -n "$g" ]; then gw=$(printf '%d.%d.%d.%d' 0x$(echo $g | cut -c7-8) 0x$(echo $g | cut -c5-6) 0x$(echo $g | cut -c3-4) 0x$(echo $g | cut -c1-2)); else gw=none; fi`,
    `for t in ${targets.join(' ')}; do ip=\${t%:*}; port=\${t#*:}; [ "$ip" = GATEWAY ] && ip=$gw; if timeout 3 bash -c 'exec 3<>/dev/tcp/$0/$1' "$ip" "$port" 2>/dev/null; then echo "OPEN $t"; else echo "CLOSED $t"; fi; done`,
  ].join('; ');
}

function opened(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('OPEN '))
    .map((l) => l.slice(5));
}

function manifest(sections: { prepare?: string[]; build?: string[]; buildNetwork?: boolean }): string {
  const lines = [`image: ${DEBIAN}`];
  if (sections.prepare)
    lines.push('prepare:', '  script:', ...sections.prepare.map((l) => `    - ${JSON.stringify(l)}`));
  lines.push('stages: [build]', 'build:');
  if (sections.buildNetwork) lines.push('  network: true');
  lines.push('  script:', ...(sections.build ?? ['true']).map((l) => `    - ${JSON.stringify(l)}`), '');
  return lines.join('\n');
}

test('control: on Docker’s unfiltered bridge the same probe reaches the farm (so the probe works)', async () => {
  const out = await h.build(h.engine({ network: 'bridge' }), manifest({ prepare: [probe()] }), await h.workspace());
  expect(out.report.status).toBe('succeeded');
  const reached = opened(logText(out.log, { stage: 'prepare', stream: 'stdout' }));
  expect(reached).toEqual(expect.arrayContaining([expect.stringMatching(/:5672$/), expect.stringMatching(/:15672$/)]));
  expect(reached).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`:${ports.crawler}$`))]));
}, 120_000);

test('prepare installs Debian packages on the isolated network, and reaches none of the farm’s services', async () => {
  const out = await h.build(
    h.engine({ network: 'isolated', memoryBytes: 1024 ** 3 }),
    manifest({
      prepare: [
        'apt-get update -qq && apt-get install -y -qq --no-install-recommends iproute2 >/dev/null && echo INSTALLED',
        probe(),
      ],
    }),
    await h.workspace(),
  );
  const text = logText(out.log, { stage: 'prepare', stream: 'stdout' });
  expect(out.report.status).toBe('succeeded');
  expect(text).toContain('INSTALLED');
  expect(text.split('\n').filter((l) => l.startsWith('CLOSED ')).length).toBe(targets.length);
  expect(opened(text)).toEqual([]);
}, 300_000);

test('a build stage has no network at all', async () => {
  const out = await h.build(
    h.engine({ network: 'isolated' }),
    manifest({ build: [probe(), 'cat /proc/net/dev'] }),
    await h.workspace(),
  );
  expect(out.report.status).toBe('succeeded');
  const text = logText(out.log, { stage: 'build', stream: 'stdout' });
  expect(opened(text)).toEqual([]);
  // Only loopback exists in the stage's network namespace.
  expect(text).toMatch(/\blo:/);
  expect(text).not.toMatch(/\beth0:/);
}, 120_000);

test('a stage asking for a network is refused unless the operator allows it, and then isolated too', async () => {
  const asking = manifest({ build: [probe()], buildNetwork: true });
  const refused = await h.build(h.engine({ network: 'isolated' }), asking, await h.workspace());
  expect(refused.report.status).toBe('errored');
  expect(refused.report.error).toMatch(/stage "build" asks for network: true.*KILN_ALLOW_STAGE_NETWORK/);

  const allowed = await h.build(
    h.engine({ network: 'isolated', allowStageNetwork: true }),
    asking,
    await h.workspace(),
  );
  expect(allowed.report.status).toBe('succeeded');
  expect(opened(logText(allowed.log, { stage: 'build', stream: 'stdout' }))).toEqual([]);
}, 120_000);
