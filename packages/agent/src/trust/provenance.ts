/** SLSA v1 provenance of one artifact, as an in-toto statement. */

export const IN_TOTO_STATEMENT = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE = 'https://slsa.dev/provenance/v1';
/** What a Kiln build is: the manifest's stages run in fresh containers (parameters below). */
export const KILN_BUILD_TYPE = 'urn:kiln:build-type:manifest:v1';

export interface ProvenanceInput {
  artifact: { name: string; sha256: string };
  source: { repository: string; commit: string | null; branch: string | null };
  manifest?: { file: string; sha256: string };
  /** The manifest's image and the compiler image the stages ran in (Docker image ids, `sha256:…`). */
  images: Array<{ role: 'base' | 'compiler'; ref: string; id: string }>;
  arch: string;
  sourceDateEpoch?: number;
  builder: { id: string; version: string };
  buildId: string;
  startedOn: Date;
  finishedOn: Date;
}

export interface KilnProvenance {
  _type: typeof IN_TOTO_STATEMENT;
  subject: Array<{ name: string; digest: { sha256: string } }>;
  predicateType: typeof SLSA_PROVENANCE;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: {
        repository: string;
        ref: string | null;
        commit: string | null;
        manifest: { path: string; digest: { sha256: string } } | null;
        arch: string;
      };
      internalParameters: { sourceDateEpoch: number | null };
      resolvedDependencies: Array<{ uri: string; name?: string; digest: Record<string, string> }>;
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
    };
  };
}

export function makeProvenance(input: ProvenanceInput): KilnProvenance {
  const { source } = input;
  return {
    _type: IN_TOTO_STATEMENT,
    subject: [{ name: input.artifact.name, digest: { sha256: input.artifact.sha256 } }],
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: KILN_BUILD_TYPE,
        externalParameters: {
          repository: source.repository,
          ref: source.branch,
          commit: source.commit,
          manifest: input.manifest ? { path: input.manifest.file, digest: { sha256: input.manifest.sha256 } } : null,
          arch: input.arch,
        },
        internalParameters: { sourceDateEpoch: input.sourceDateEpoch ?? null },
        resolvedDependencies: [
          ...(source.commit ? [{ uri: `git+${source.repository}`, digest: { gitCommit: source.commit } }] : []),
          ...input.images.map((image) => ({
            uri: `docker-image:${image.ref}`,
            name: image.role,
            digest: { sha256: image.id.replace(/^sha256:/, '') },
          })),
        ],
      },
      runDetails: {
        builder: { id: input.builder.id, version: { kiln: input.builder.version } },
        metadata: {
          invocationId: input.buildId,
          startedOn: input.startedOn.toISOString(),
          finishedOn: input.finishedOn.toISOString(),
        },
      },
    },
  };
}
