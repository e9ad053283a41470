import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ConfigSchema } from '@kiln/shared';

const run = promisify(execFile);

interface ComposeFile {
  services: Record<string, { image?: string; environment?: Record<string, string> }>;
}

// docker-compose parses and resolves the file in a few seconds, more on a loaded machine.
jest.setTimeout(60_000);

describe('docker-compose.yml', () => {
  test('docker-compose config accepts it', async () => {
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services']);
    expect(stdout.trim().split('\n').sort()).toEqual([
      'agent',
      'build-network',
      'crawler',
      'mailpit',
      'migrate',
      'postgres',
      'rabbitmq',
      'server',
    ]);
  });

  test('every variable it sets on a Kiln service is one Kiln reads', async () => {
    // The resolved form: anchors and merges expanded, as compose itself sees it.
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config']);
    const compose = parse(stdout) as ComposeFile;
    // Besides Kiln's own settings: the Docker client's DOCKER_HOST and Node's own NODE_OPTIONS.
    const known = new Set([...Object.keys(ConfigSchema.shape), 'DOCKER_HOST', 'NODE_OPTIONS']);
    const kiln = Object.entries(compose.services).filter(([, s]) => s.image === 'kiln:local');
    expect(kiln.map(([name]) => name).sort()).toEqual(['agent', 'build-network', 'crawler', 'migrate', 'server']);
    for (const [name, service] of kiln) {
      const unknown = Object.keys(service.environment ?? {}).filter((v) => !known.has(v));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  test('.env.example names only variables the compose file uses', async () => {
    const compose = await readFile('docker-compose.yml', 'utf8');
    const example = await readFile('.env.example', 'utf8');
    const names = [...example.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect({ name, used: compose.includes(`\${${name}`) }).toEqual({ name, used: true });
  });
});
