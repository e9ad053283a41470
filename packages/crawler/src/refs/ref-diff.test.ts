import { diffRefs } from './ref-diff.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('diffRefs', () => {
  test('new and moved release heads build; other branches are ignored; gone ones are deleted', () => {
    const known = new Map([
      ['zlib-1.3.1', A],
      ['zlib-1.3.0', A],
      ['zlib-1.2.0', A],
    ]);
    const seen = new Map([
      ['zlib-1.3.1', B], // hotfix
      ['zlib-1.3.0', A], // unchanged
      ['zlib-1.4.0', A], // new
      ['main', B],
      ['feature-x', B],
      ['--upload-pack=touch-1.0', A],
      ['-rf-1.0', A],
    ]);
    expect(diffRefs(known, seen)).toEqual({
      moved: [
        { branch: 'zlib-1.3.1', commit: B, package: { name: 'zlib', version: '1.3.1' } },
        { branch: 'zlib-1.4.0', commit: A, package: { name: 'zlib', version: '1.4.0' } },
      ],
      deleted: ['zlib-1.2.0'],
      unsafe: ['--upload-pack=touch-1.0', '-rf-1.0'],
    });
  });

  test('nothing changed, nothing to do', () => {
    const heads = new Map([['zlib-1.3.1', A]]);
    expect(diffRefs(heads, new Map([...heads, ['main', B]]))).toEqual({ moved: [], deleted: [], unsafe: [] });
  });
});
