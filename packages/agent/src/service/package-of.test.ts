import type { Manifest } from '@kiln/shared';
import { packageOf } from './package-of.js';

const manifest = (pkg: Manifest['package']): Manifest => ({
  file: '.kiln.yml',
  image: 'kiln/busybox',
  package: pkg,
  environment: { inherit: false, vars: [] },
  stages: [],
  cache: [],
});
const job = { id: '00000000-0000-4000-8000-000000000000', repo: '/srv/git/x.git' };

describe('packageOf', () => {
  it('reads the package from a release branch', () => {
    expect(packageOf(job, 'python-dateutil-2.9.0', null)).toEqual({ name: 'python-dateutil', version: '2.9.0' });
  });

  it('prefers the manifest, then the job, then the branch, field by field', () => {
    expect(
      packageOf({ ...job, package: { name: 'zlib', version: '1.3' } }, 'zlib-1.3', manifest({ version: '1.3.1' })),
    ).toEqual({
      name: 'zlib',
      version: '1.3.1',
    });
  });

  it('is null when no name or version can be found', () => {
    expect(packageOf(job, 'main', null)).toBeNull();
    expect(packageOf(job, 'main', manifest({ name: 'x' }))).toBeNull();
  });
});
