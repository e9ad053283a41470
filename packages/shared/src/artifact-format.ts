/**
 * How a payload artifact is packed: one tar of the installed files, compressed.
 * The name is what the report, the package database (`packages.artifact_format`)
 * and the artifact's file name carry; whatever serves or reads an artifact
 * (a package repository, `kiln fetch`, `kiln verify`) goes by it.
 */
export const ARTIFACT_FORMATS = ['tar.zst', 'tar.gz'] as const;
export type ArtifactFormat = (typeof ARTIFACT_FORMATS)[number];

/**
 * zstd is as small as gzip -6 at several times the speed of gzip -1
 * (bench/artifact-compression.ts). `kiln server`'s repository and `kiln fetch`
 * follow `packages.artifact_format` now, so tar.zst could become the default;
 * that switch is its own change (agents' tests expect .tar.gz names).
 * KILN_ARTIFACT_FORMAT=tar.zst opts in.
 */
export const DEFAULT_ARTIFACT_FORMAT: ArtifactFormat = 'tar.gz';

const MEDIA_TYPES: Record<ArtifactFormat, string> = {
  'tar.zst': 'application/zstd',
  'tar.gz': 'application/gzip',
};

export function artifactMediaType(format: ArtifactFormat): string {
  return MEDIA_TYPES[format];
}

/** The file name ending, with its dot: `.tar.zst`. */
export function artifactSuffix(format: ArtifactFormat): string {
  return `.${format}`;
}

/** The format a file name says (`zlib-1.3.1.tar.gz`), or null when it names none. */
export function artifactFormatOf(fileName: string): ArtifactFormat | null {
  return ARTIFACT_FORMATS.find((format) => fileName.endsWith(artifactSuffix(format))) ?? null;
}
