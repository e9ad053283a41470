import { artifactTarget } from './artifact-target.js';

describe('artifactTarget', () => {
  test('on a host without zstd: a .tar.gz, and the log says why', async () => {
    const path = process.env.PATH;
    // No program can be found: as on a host where zstd is not installed.
    process.env.PATH = '/nonexistent';
    const notes: string[] = [];
    try {
      const target = await artifactTarget(
        { buildId: 'b1', package: { name: 'zlib', version: '1.3.1' }, artifactFormat: 'tar.zst' },
        '/srv/artifacts',
        (text) => notes.push(text),
      );
      expect(target).toEqual({ file: '/srv/artifacts/zlib-1.3.1-b1.tar.gz', format: 'tar.gz' });
      expect(notes).toEqual(['this host has no zstd program: the artifact is written as .tar.gz instead\n']);
    } finally {
      process.env.PATH = path;
    }
  });

  test('tar.gz asked for, and names made safe for a file system', async () => {
    const target = await artifactTarget(
      { buildId: 'a/b', package: { name: 'we ird', version: '1:2' }, artifactFormat: 'tar.gz' },
      '/a',
      () => undefined,
    );
    expect(target).toEqual({ file: '/a/we_ird-1_2-a_b.tar.gz', format: 'tar.gz' });
  });
});
