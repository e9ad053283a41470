import path from 'node:path';
import { artifactSuffix, DEFAULT_ARTIFACT_FORMAT, type ArtifactFormat } from '@kiln/shared';
import type { BuildRequest } from '../types.js';
import { hasZstd } from './artifact-compressor.js';

/**
 * Where a build's artifact goes and in which format: the one asked for, or
 * .tar.gz on a host without the zstd program (said through `note`, so the
 * build's log tells why). The name carries the package, version and build id.
 */
export async function artifactTarget(
  request: Pick<BuildRequest, 'buildId' | 'package' | 'artifactFormat'>,
  dir: string,
  note: (text: string) => void,
): Promise<{ file: string; format: ArtifactFormat }> {
  let format = request.artifactFormat ?? DEFAULT_ARTIFACT_FORMAT;
  if (format === 'tar.zst' && !(await hasZstd())) {
    note('this host has no zstd program: the artifact is written as .tar.gz instead\n');
    format = 'tar.gz';
  }
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._+-]/g, '_');
  const id = safe(request.buildId);
  const name = request.package ? `${safe(request.package.name)}-${safe(request.package.version)}-${id}` : id;
  return { file: path.join(dir, `${name}${artifactSuffix(format)}`), format };
}
