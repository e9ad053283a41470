import { readFileSync } from 'node:fs';
import { parseManifest } from './parse-manifest.js';
import { ManifestError } from './manifest-error.js';

/** The sample of shared/reference/buildr-manifest.md, byte for byte. */
const BUILDR_SAMPLE = readFileSync(new URL('../../../../test/fixtures/buildr-sample.yml', import.meta.url), 'utf8');

function errorOf(text: string, file = '.kiln.yml'): string {
  try {
    parseManifest(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as Error).message;
  }
  throw new Error('expected the manifest to be refused');
}

describe('parseManifest', () => {
  test('reads the .buildr.yml sample unchanged', () => {
    expect(parseManifest(BUILDR_SAMPLE, '.buildr.yml')).toEqual({
      file: '.buildr.yml',
      image: 'debian:bookworm',
      package: {},
      environment: {
        inherit: false,
        vars: [
          { name: 'GREETING', value: 'hello world' },
          { name: 'TOKEN', value: 's3cr3t-value' },
        ],
      },
      prepare: { script: ['apt-get update && apt-get install -y --no-install-recommends make gcc'] },
      stages: [
        { name: 'build', script: ['make all', 'make check'] },
        { name: 'package', script: ['tar czf dist.tar.gz build/'] },
      ],
      cache: [],
    });
  });

  test("reads Kiln's additions", () => {
    const manifest = parseManifest(
      `image: kiln/bookworm-build:latest
package:
  maintainer: Jane Doe <jane@example.org>
environment:
  vars: {CFLAGS: -O2, JOBS: 2}
stages: [build, test]
build:
  script: ["./configure --prefix=/usr", "make -j$(nproc)"]
  timeout: 20m
test:
  script: [make check]
  timeout: 90
install:
  script: ["make install DESTDIR=$DESTDIR"]
  timeout: 1h30m
cache: [/root/.ccache]
`,
    );
    expect(manifest.package.maintainer).toBe('Jane Doe <jane@example.org>');
    expect(manifest.environment.vars).toEqual([
      { name: 'CFLAGS', value: '-O2' },
      { name: 'JOBS', value: '2' },
    ]);
    expect(manifest.stages.map((s) => [s.name, s.timeoutMs])).toEqual([
      ['build', 1_200_000],
      ['test', 90_000],
    ]);
    expect(manifest.install).toEqual({ script: ['make install DESTDIR=$DESTDIR'], timeoutMs: 5_400_000 });
    expect(manifest.cache).toEqual(['/root/.ccache']);
  });

  test('a value may hold spaces and "="', () => {
    const m = parseManifest('image: a:b\nenvironment:\n  vars: ["OPTS=--a=1 --b=2"]\nstages: [s]\ns: {script: [x]}\n');
    expect(m.environment.vars).toEqual([{ name: 'OPTS', value: '--a=1 --b=2' }]);
  });

  test.each([
    'debian:bookworm',
    'kiln/bookworm-build:latest',
    'registry.example.org:5000/team/compiler:1.2',
    '127.0.0.1:5000/kiln-pull-test:abc',
    'localhost/x',
    'ghcr.io/owner/image',
    `gcc@sha256:${'a'.repeat(64)}`,
  ])('accepts the image reference %s', (image) => {
    expect(parseManifest(`image: "${image}"\nstages: [b]\nb: {script: [x]}\n`).image).toBe(image);
  });

  test.each(['--privileged', '-x:1', 'Debian:bookworm', 'a b', 'a:b:c:d', 'x/:tag', '/x'])(
    'refuses the image reference %j',
    (image) => {
      expect(errorOf(`image: "${image}"\nstages: [b]\nb: {script: [x]}\n`)).toContain(
        'image: is not a valid image reference (name:tag) (line 1)',
      );
    },
  );

  test('install listed in stages is an ordinary stage', () => {
    const m = parseManifest(
      'image: a:b\nstages: [build, install]\nbuild: {script: [make]}\ninstall: {script: [make install]}\n',
    );
    expect(m.stages.map((s) => s.name)).toEqual(['build', 'install']);
    expect(m.install).toBeUndefined();
  });

  test.each([
    [
      'a stage listed but not defined',
      `image: debian:bookworm
stages:
  - build
  - deploy
build:
  script: [make]
`,
      '.kiln.yml: stages[1]: stage "deploy" is listed but not defined (line 4)',
    ],
    [
      'an unknown key',
      'image: a:b\nstages: [build]\nbuild: {script: [make]}\ncahce: [/x]\n',
      '.kiln.yml: cahce: unknown key "cahce" (not a manifest key, nor a stage listed in stages) (line 4)',
    ],
    [
      'an unknown key inside a stage',
      'image: a:b\nstages: [build]\nbuild:\n  script: [make]\n  scripts: [oops]\n',
      '.kiln.yml: build.scripts: unknown key "scripts" (line 5)',
    ],
    [
      'a missing image',
      'stages: [build]\nbuild: {script: [make]}\n',
      '.kiln.yml: image: is required: the Docker image every stage starts from (name:tag) (line 1)',
    ],
    [
      'missing stages',
      'image: a:b\n',
      '.kiln.yml: stages: is required: the ordered list of stage names to run (line 1)',
    ],
    [
      'a script that is not a list',
      'image: a:b\nstages: [build]\nbuild:\n  script: make\n',
      '.kiln.yml: build.script: must be a list of command lines (line 4)',
    ],
    [
      'an empty script',
      'image: a:b\nstages: [build]\nbuild:\n  script: []\n',
      '.kiln.yml: build.script: must list at least one command (line 4)',
    ],
    [
      'a script line that is not a string',
      'image: a:b\nstages: [build]\nbuild:\n  script:\n    - make\n    - {a: 1}\n',
      '.kiln.yml: build.script[1]: must be a string (quote lines that YAML would read as something else) (line 6)',
    ],
    [
      'a var without "="',
      'image: a:b\nenvironment:\n  vars:\n    - GOOD=1\n    - BROKEN\nstages: [s]\ns: {script: [x]}\n',
      '.kiln.yml: environment.vars[1]: "BROKEN" is not NAME=VALUE (line 5)',
    ],
    [
      'a bad variable name',
      'image: a:b\nenvironment:\n  vars: ["1X=2"]\nstages: [s]\ns: {script: [x]}\n',
      '.kiln.yml: environment.vars[0]: "1X" is not a valid variable name (line 3)',
    ],
    [
      'inherit that is not a boolean',
      'image: a:b\nenvironment:\n  inherit: "yes please"\nstages: [s]\ns: {script: [x]}\n',
      '.kiln.yml: environment.inherit: must be true or false (line 3)',
    ],
    [
      'a bad timeout',
      'image: a:b\nstages: [s]\ns:\n  script: [x]\n  timeout: soon\n',
      '.kiln.yml: s.timeout: must be a duration such as 90s, 20m or 1h (line 5)',
    ],
    [
      'prepare listed as a stage',
      'image: a:b\nstages: [prepare, b]\nprepare: {script: [x]}\nb: {script: [y]}\n',
      '.kiln.yml: stages[0]: prepare always runs first by itself; remove it from stages (line 2)',
    ],
    [
      'a stage listed twice',
      'image: a:b\nstages:\n  - b\n  - b\nb: {script: [y]}\n',
      '.kiln.yml: stages[1]: stage "b" is listed twice (line 4)',
    ],
    [
      'a stage name with shell characters',
      'image: a:b\nstages: ["b;rm -rf /"]\n',
      '.kiln.yml: stages[0]: must be a stage name of letters, digits, "-" and "_" (line 2)',
    ],
    [
      'an image that reads as an option',
      'image: --privileged\nstages: [b]\nb: {script: [y]}\n',
      '.kiln.yml: image: is not a valid image reference (name:tag) (line 1)',
    ],
    [
      'a relative cache path',
      'image: a:b\nstages: [b]\nb: {script: [y]}\ncache: [relative/dir]\n',
      '.kiln.yml: cache[0]: must be an absolute path (line 4)',
    ],
    [
      'a duplicate key',
      'image: a:b\nimage: c:d\nstages: [b]\nb: {script: [y]}\n',
      '.kiln.yml: YAML: Map keys must be unique (line 2)',
    ],
    [
      'a document that is not a mapping',
      '- just\n- a list\n',
      '.kiln.yml: must be a YAML mapping with image and stages (line 1)',
    ],
    ['broken YAML', 'image: [unclosed\nstages: [b]\n', '.kiln.yml: YAML:'],
  ])('refuses %s', (_name, text, message) => {
    expect(errorOf(text)).toContain(message);
  });

  test('names the file it read', () => {
    expect(errorOf('image: a:b\n', '.buildr.yml')).toMatch(/^\.buildr\.yml: stages:/);
  });

  test('reports every problem at once', () => {
    const message = errorOf('image: a:b\nstages: [a, b]\nextra: 1\n');
    expect(message.split('\n')).toEqual([
      '.kiln.yml: stages[0]: stage "a" is listed but not defined (line 2)',
      '.kiln.yml: stages[1]: stage "b" is listed but not defined (line 2)',
      '.kiln.yml: extra: unknown key "extra" (not a manifest key, nor a stage listed in stages) (line 3)',
    ]);
  });

  describe('limits', () => {
    test('file size', () => {
      expect(errorOf(`image: a:b\n# ${'x'.repeat(70_000)}\n`)).toBe('.kiln.yml: is larger than 64 KiB');
    });
    test('stage count', () => {
      const names = Array.from({ length: 33 }, (_, i) => `s${i}`);
      const text = `image: a:b\nstages: [${names.join(', ')}]\n${names.map((n) => `${n}: {script: [x]}`).join('\n')}\n`;
      expect(errorOf(text)).toContain('stages: has more than 32 stages (line 2)');
    });
    test('script length', () => {
      const lines = Array.from({ length: 201 }, () => '    - x').join('\n');
      expect(errorOf(`image: a:b\nstages: [b]\nb:\n  script:\n${lines}\n`)).toContain(
        'b.script: has more than 200 lines (line 5)',
      );
    });
    test('a YAML alias bomb is refused fast', () => {
      const bomb = [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
        'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
        'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
        'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
        'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
        'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
        'image: a:b',
        'stages: [build]',
        'build: {script: *i}',
      ].join('\n');
      expect(errorOf(bomb)).toBe('.kiln.yml: uses YAML aliases too heavily (more than 50 expansions)');
    });
    test('a few aliases are fine', () => {
      const m = parseManifest('image: a:b\nstages: [b, c]\nb: &s {script: [make]}\nc: *s\n');
      expect(m.stages[1]).toEqual({ name: 'c', script: ['make'] });
    });
  });
});

describe('verify', () => {
  test('reproducible asks for a reproducibility check; absent asks for none', () => {
    expect(parseManifest('image: a:b\nverify: [reproducible]\nstages: []\n').verify).toEqual(['reproducible']);
    expect(parseManifest('image: a:b\nstages: []\n').verify).toBeUndefined();
  });
  test('an unknown check is named, with its line', () => {
    expect(() => parseManifest('image: a:b\nverify: [signed]\nstages: []\n')).toThrow(
      /verify\[0\]: the only check is reproducible \(line 2\)/,
    );
  });
});

describe('arch', () => {
  const base = 'image: debian:bookworm\nstages: [build]\nbuild:\n  script: [make]\n';
  test('lists the arches to build for, once each; absent means the native arch', () => {
    expect(parseManifest(`${base}arch: [amd64, arm64, amd64]\n`).arch).toEqual(['amd64', 'arm64']);
    expect(parseManifest(base).arch).toBeUndefined();
  });
  test('an unknown arch name is named with its field and line', () => {
    expect(errorOf(`${base}arch:\n  - amd64\n  - aarch64\n`)).toBe(
      '.kiln.yml: arch[1]: is not a Debian architecture name (amd64, arm64, armhf, i386, riscv64, …) (line 7)',
    );
  });
  test('must be a non-empty list', () => {
    expect(errorOf(`${base}arch: arm64\n`)).toMatch(/arch: must be a list of Debian architecture names.*\(line 5\)/);
    expect(errorOf(`${base}arch: []\n`)).toMatch(/arch: must list at least one architecture \(line 5\)/);
  });
});
