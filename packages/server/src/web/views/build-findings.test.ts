import type { BuildDetailsOut } from '../../schemas/builds.js';
import { analysisSection } from './build-analysis.js';
import { trustSection } from './build-trust.js';
import { elfFacts } from './files-table.js';

const ID = '00000000-0000-4000-8000-000000000001';
const AGAINST = '00000000-0000-4000-8000-000000000002';

function build(over: Partial<BuildDetailsOut>): BuildDetailsOut {
  return {
    id: ID,
    repo: '/srv/git/x.git',
    branch: 'x-1.0',
    commit: null,
    package: { name: 'x', version: '1.0' },
    arch: 'amd64',
    trigger: 'cli',
    status: 'succeeded',
    attempt: 1,
    agent: 'a',
    queuedAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    error: null,
    stalled: false,
    rebuildOf: null,
    cancelRequested: false,
    failure: null,
    heartbeatAt: null,
    stages: [],
    timings: [],
    files: { count: 0, sizeBytes: 0 },
    current: true,
    artifact: null,
    reproducibility: null,
    documents: [],
    analysis: null,
    ...over,
  };
}

const text = (markup: string) => markup.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('the analysis section', () => {
  test('names unresolved needs with their files, lists findings, and links the whole diff and the earlier build', () => {
    const markup = analysisSection(
      build({
        analysis: {
          provides: ['libx.so.1'],
          unresolved: [{ soname: 'libmissing.so.7', files: ['/usr/bin/x', '/usr/bin/y'] }],
          findings: [{ rule: 'setuid', level: 'fail', path: '/usr/bin/x', message: 'setuid <root>' }],
          changes: {
            against: AGAINST,
            basis: 'previous-version',
            added: 2,
            removed: 1,
            changed: 0,
            sizeChange: -2048,
            providesAdded: ['libx.so.1'],
            providesRemoved: ['libx.so.0'],
            abiChange: true,
            hardeningLost: 1,
            slowerCommands: 0,
            url: `/api/v1/builds/${ID}/diff`,
          },
        },
      }),
    ).text;
    expect(text(markup)).toContain('libmissing.so.7 needed by /usr/bin/x , /usr/bin/y');
    expect(markup).toContain('setuid &lt;root&gt;'); // escaped
    expect(text(markup)).toContain('+2 added, −1 removed, 0 changed files, −2.0 KiB');
    expect(text(markup)).toMatch(/ABI change : provides \+ libx\.so\.1 −/);
    expect(text(markup)).toContain('hardening lost in 1 file');
    expect(markup).toContain(`href="/api/v1/builds/${ID}/diff"`);
    expect(markup).toContain(`href="/builds/${AGAINST}"`);
    expect(markup).toContain('href="/search?q=libx.so.1"');
  });

  test('is hidden without an analysis, and says so when nothing was found', () => {
    expect(analysisSection(build({})).text).toBe('<section id="analysis" hidden></section>');
    const empty = text(analysisSection(build({ analysis: { provides: [], unresolved: [], findings: [] } })).text);
    expect(empty).toContain('none: every needed library is provided');
    expect(empty).toContain('no earlier build to compare with');
  });
});

describe('the reproducibility section', () => {
  test('an unreproducible build lists its differing files, each linked to its difference', () => {
    const markup = trustSection(
      build({
        reproducibility: {
          status: 'unreproducible',
          differing: ['/usr/bin/a', '/usr/share/b'],
          url: `/api/v1/builds/${ID}/reproducibility`,
        },
        documents: [{ kind: 'sbom', url: `/api/v1/builds/${ID}/sbom`, sha256: 'f'.repeat(64) }],
      }),
    ).text;
    expect(text(markup)).toContain('unreproducible , 2 files differ');
    expect(markup).toContain(`href="/builds/${ID}/reproducibility#d1"`);
    expect(markup).toContain(`href="/api/v1/builds/${ID}/reproducibility"`);
    expect(markup).toContain(`href="/api/v1/builds/${ID}/sbom"`);
    expect(markup).not.toContain('Provenance');
  });

  test('hidden when there is neither a check nor a document', () => {
    expect(trustSection(build({})).text).toBe('<section id="trust" hidden></section>');
  });
});

describe('ELF facts in the files table', () => {
  test('marks weak points, and says nothing about what is not known', () => {
    const base = {
      path: '/usr/bin/x',
      size: 1,
      mode: '4755',
      sha256: null,
      linkage: null,
      needed: null,
      soname: null,
      target: null,
    };
    const weak = text(
      elfFacts({
        ...base,
        kind: 'executable',
        pie: false,
        relro: 'none',
        bindNow: false,
        stripped: true,
        setuid: true,
        runpath: '/opt/x',
      }).text,
    );
    expect(weak).toBe(' ⚠ no PIE ⚠ RELRO none ⚠ lazy binding stripped ⚠ setuid RUNPATH /opt/x ');
    const strong = text(
      elfFacts({ ...base, kind: 'executable', pie: true, relro: 'full', bindNow: true, stripped: false }).text,
    );
    expect(strong).toBe(' PIE RELRO full BIND_NOW symbols ');
    expect(elfFacts({ ...base, kind: 'other' }).text).toBe('');
  });
});
