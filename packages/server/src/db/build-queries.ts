import {
  artifactSuffix,
  buildExists,
  listBuilds as readBuildList,
  readBuild,
  type ArtifactFormat,
  type BuildFilter,
  type BuildSummary,
  type Queryable,
} from '@kiln/shared';
import type { BuildDetailsOut, BuildSummaryOut } from '../schemas/builds.js';

export { buildExists };

/** The API's form of a build: the shared read side's. */
function toApiSummary(build: BuildSummary): BuildSummaryOut {
  return {
    id: build.id,
    repo: build.repo,
    branch: build.branch,
    commit: build.commit,
    package: build.package,
    arch: build.arch,
    trigger: build.trigger,
    status: build.status,
    attempt: build.attempt,
    agent: build.agent,
    queuedAt: build.queuedAt,
    startedAt: build.startedAt,
    finishedAt: build.finishedAt,
    durationMs: build.durationMs,
    error: build.error,
    stalled: build.stalled,
    rebuildOf: build.rebuildOf,
    cancelRequested: build.cancelRequested,
  };
}

/**
 * A page of builds, newest first; one row more than asked says whether there
 * is a next page. Null when `before` names no build.
 */
export async function listBuilds(
  db: Queryable,
  filter: BuildFilter & { limit: number },
): Promise<{ builds: BuildSummaryOut[]; next: string | null } | null> {
  const rows = await readBuildList(db, { ...filter, limit: filter.limit + 1 });
  if (rows.length === 0 && filter.before !== undefined && !(await buildExists(db, filter.before))) return null;
  const page = rows.slice(0, filter.limit).map((b) => toApiSummary(b));
  return { builds: page, next: rows.length > filter.limit ? (page[page.length - 1]?.id ?? null) : null };
}

/** One build; `hostArch` names the artifact of a build from before builds had an arch. */
export async function getBuild(db: Queryable, id: string, hostArch: string): Promise<BuildDetailsOut | null> {
  const build = await readBuild(db, id);
  if (!build) return null;
  const failed = build.failedStage !== null || build.failedCommand !== null || build.exitCode !== null;
  const artifact = build.artifact;
  return {
    ...toApiSummary(build),
    failure: failed ? { stage: build.failedStage, command: build.failedCommand, exitCode: build.exitCode } : null,
    heartbeatAt: build.heartbeatAt,
    stages: build.stages,
    timings: build.timings,
    files: build.files,
    current: build.current,
    artifact:
      artifact?.path != null && build.package
        ? {
            url: artifactUrl(
              build.package.name,
              build.package.version,
              build.arch ?? hostArch,
              artifact.format ?? 'tar.gz',
            ),
            sha256: artifact.sha256,
            format: artifact.format ?? 'tar.gz',
          }
        : null,
    reproducibility: build.reproducibility
      ? { ...build.reproducibility, url: `/api/v1/builds/${build.id}/reproducibility` }
      : null,
    documents: build.attestations.map((a) => ({ ...a, url: `/api/v1/builds/${build.id}/${a.kind}` })),
    analysis: build.analysis
      ? {
          provides: build.analysis.provides,
          unresolved: build.analysis.unresolved,
          findings: build.analysis.findings,
          ...(build.analysis.changes
            ? { changes: { ...build.analysis.changes, url: `/api/v1/builds/${build.id}/diff` } }
            : {}),
        }
      : null,
  };
}

/** Where the package repository serves a package's artifact, relative to the server's root. */
export function artifactUrl(name: string, version: string, arch: string, format: ArtifactFormat): string {
  return `/repo/artifacts/${encodeURIComponent(`${name}-${version}-${arch}${artifactSuffix(format)}`)}`;
}
