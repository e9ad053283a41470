import { parseManifest } from '@kiln/shared';
import { resolveEnvironment } from './build-environment.js';

const manifest = (inherit: boolean) =>
  parseManifest(
    `image: a:b\nenvironment:\n  inherit: ${inherit}\n  vars: [GREETING=hello world, API_TOKEN=abcd1234, HOME=/x]\nstages: [s]\ns: {script: [x]}\n`,
  );

describe('resolveEnvironment', () => {
  test("the manifest's variables, with secret-looking ones to mask", () => {
    const env = resolveEnvironment(manifest(false), { DB_PASSWORD: 'pw-from-host' }, true);
    expect(env.vars).toEqual([
      { name: 'GREETING', value: 'hello world' },
      { name: 'API_TOKEN', value: 'abcd1234' },
      { name: 'HOME', value: '/x' },
    ]);
    expect(env.secrets).toEqual(['abcd1234']);
    expect(env.notes).toEqual([]);
  });

  test('inherit passes the host environment where the operator allows it, minus its own and secrets masked', () => {
    const host = {
      CC: 'clang',
      DB_PASSWORD: 'pw-from-host',
      KILN_DATABASE_URL: 'postgres://x',
      PATH: '/host/bin',
      GREETING: 'host',
      'BAD-NAME': 'x',
    };
    const env = resolveEnvironment(manifest(true), host, true);
    expect(env.vars).toEqual([
      { name: 'CC', value: 'clang' },
      { name: 'DB_PASSWORD', value: 'pw-from-host' },
      { name: 'GREETING', value: 'hello world' },
      { name: 'API_TOKEN', value: 'abcd1234' },
      { name: 'HOME', value: '/x' },
    ]);
    expect(env.secrets.sort()).toEqual(['abcd1234', 'pw-from-host']);
  });

  test('inherit is ignored, with a note, where the operator forbids it', () => {
    const env = resolveEnvironment(manifest(true), { CC: 'clang' }, false);
    expect(env.vars.map((v) => v.name)).toEqual(['GREETING', 'API_TOKEN', 'HOME']);
    expect(env.notes[0]).toContain('KILN_ALLOW_INHERIT_ENV');
  });
});
