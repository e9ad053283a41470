import type { InstalledFile } from '../report.js';
import { compareBuilds, hardeningLost, type BuildSide } from './build-diff.js';

const lib = (over: Partial<InstalledFile> = {}): InstalledFile => ({
  path: '/usr/lib/libgreet.so.1.2.0',
  size: 100,
  mode: '0755',
  sha256: 'a'.repeat(64),
  kind: 'shared-library',
  linkage: 'dynamic',
  needed: ['libc.so.6'],
  soname: 'libgreet.so.1',
  relro: 'full',
  bindNow: true,
  nxStack: true,
  ...over,
});
const side = (id: string, files: InstalledFile[], commands: BuildSide['commands'] = []): BuildSide => ({
  id,
  version: '1.0',
  files,
  commands,
});

describe('compareBuilds', () => {
  test('added, removed, changed and unchanged files; size change', () => {
    const header: InstalledFile = {
      path: '/usr/include/greet.h',
      size: 10,
      mode: '0644',
      kind: 'other',
      sha256: 'h'.repeat(64),
    };
    const diff = compareBuilds(
      side('a', [lib(), header, { ...header, path: '/usr/share/doc/old' }]),
      side('b', [
        lib({ size: 120, sha256: 'b'.repeat(64) }),
        header,
        { ...header, path: '/usr/share/doc/new', size: 5 },
      ]),
      'hotfix',
    );
    expect(diff.files.changed).toEqual([
      { path: lib().path, sizeBefore: 100, sizeAfter: 120, sha256Before: 'a'.repeat(64), sha256After: 'b'.repeat(64) },
    ]);
    expect(diff.files.added.map((f) => f.path)).toEqual(['/usr/share/doc/new']);
    expect(diff.files.removed.map((f) => f.path)).toEqual(['/usr/share/doc/old']);
    expect(diff.files.unchanged).toBe(1);
    expect(diff.sizeBytes).toEqual({ before: 120, after: 135, change: 15 });
    expect(diff.abiChange).toBe(false);
  });

  test('a new SONAME is an ABI change; needed and kind changes are listed', () => {
    const exe: InstalledFile = {
      path: '/usr/bin/app',
      size: 5,
      mode: '0755',
      kind: 'executable',
      linkage: 'dynamic',
      needed: ['libgreet.so.1'],
    };
    const diff = compareBuilds(
      side('a', [lib(), exe]),
      side('b', [
        lib({ path: '/usr/lib/libgreet.so.2.0.0', soname: 'libgreet.so.2' }),
        { ...exe, needed: ['libgreet.so.2'] },
      ]),
      'previous-version',
    );
    expect(diff.provides).toEqual({ added: ['libgreet.so.2'], removed: ['libgreet.so.1'] });
    expect(diff.abiChange).toBe(true);
    expect(diff.linkage).toEqual([
      {
        path: '/usr/bin/app',
        before: 'dynamic',
        after: 'dynamic',
        neededAdded: ['libgreet.so.2'],
        neededRemoved: ['libgreet.so.1'],
      },
    ]);
  });

  test('command times: only changes beyond noise count', () => {
    const diff = compareBuilds(
      side(
        'a',
        [],
        [
          { stage: 'build', command: 'make', durationMs: 10_000 },
          { stage: 'build', command: 'make check', durationMs: 1000 },
        ],
      ),
      side(
        'b',
        [],
        [
          { stage: 'build', command: 'make', durationMs: 30_000 },
          { stage: 'build', command: 'make check', durationMs: 2500 },
        ],
      ),
      'hotfix',
    );
    expect(diff.commands).toEqual([{ stage: 'build', command: 'make', beforeMs: 10_000, afterMs: 30_000 }]);
  });
});

describe('hardeningLost', () => {
  test('each loss is named; gains are not losses', () => {
    const exe = lib({ kind: 'executable', pie: true, soname: undefined });
    expect(
      hardeningLost(exe, { ...exe, relro: 'none', pie: false, bindNow: false, nxStack: false, runpath: '/opt/x' }).map(
        (l) => l.lost,
      ),
    ).toEqual(['relro', 'pie', 'bindNow', 'nxStack', 'runpath']);
    expect(hardeningLost(exe, { ...exe, linkage: 'static' })).toEqual([
      { path: exe.path, lost: 'static', before: 'dynamic', after: 'static' },
    ]);
    expect(hardeningLost({ ...exe, relro: 'none' }, exe)).toEqual([]);
  });
});
