import type { InstalledFile } from '@kiln/shared';
import { differingFiles } from './compare-payloads.js';

const file = (path: string, more: Partial<InstalledFile> = {}): InstalledFile => ({
  path,
  size: 3,
  mode: '0644',
  kind: 'other',
  sha256: 'a'.repeat(64),
  ...more,
});

describe('differingFiles', () => {
  test('equal payloads differ nowhere, whatever their order', () => {
    expect(differingFiles([file('/a'), file('/b')], [file('/b'), file('/a')])).toEqual([]);
  });

  test('content, mode, link target and presence count; sorted', () => {
    const first = [
      file('/z'),
      file('/m'),
      file('/l', { kind: 'symlink', target: 'x', sha256: undefined }),
      file('/gone'),
    ];
    const second = [
      file('/z', { sha256: 'b'.repeat(64) }),
      file('/m', { mode: '0755' }),
      file('/l', { kind: 'symlink', target: 'y', sha256: undefined }),
      file('/new'),
    ];
    expect(differingFiles(first, second)).toEqual(['/gone', '/l', '/m', '/new', '/z']);
  });
});
