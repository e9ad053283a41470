import { parseDpkgQuery } from './image-packages.js';

describe('parseDpkgQuery', () => {
  test('keeps installed library packages (libs, libdevel in any area, lib*), sorted by name', () => {
    const output = [
      'ii \tlibc6\t2.36-9+deb12u4\tlibs',
      'ii \tlibc6-dev\t2.36-9+deb12u4\tlibdevel',
      'ii \tgcc\t4:12.2.0-3\tdevel',
      'ii \tbash\t5.2.15-2+b2\tshells',
      'ii \tzlib1g\t1:1.2.13.dfsg-1\tlibs',
      'ii \tlibfoo-extra\t1.0\tcontrib/misc',
      'ii \tnvidia-thing\t2.0\tnon-free/libs',
      'rc \tlibold1\t0.9\tlibs',
      'un \tlibnever\t\tlibs',
      '',
    ].join('\r\n');
    expect(parseDpkgQuery(output)).toEqual([
      { name: 'libc6', version: '2.36-9+deb12u4' },
      { name: 'libc6-dev', version: '2.36-9+deb12u4' },
      { name: 'libfoo-extra', version: '1.0' },
      { name: 'nvidia-thing', version: '2.0' },
      { name: 'zlib1g', version: '1:1.2.13.dfsg-1' },
    ]);
  });

  test('ignores lines that are not packages', () => {
    expect(parseDpkgQuery('dpkg-query: no packages found\nii \tBad Name\t1\tlibs\n')).toEqual([]);
  });
});
