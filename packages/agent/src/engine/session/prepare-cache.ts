import { createHash } from 'node:crypto';
import type { EnvVar, ManifestSection, StageReport } from '@kiln/shared';
import type { ImageInfo } from '../container-runtime.js';
import { ARCH_LABEL, LABEL } from '../labels.js';
import type { StageResult } from '../stage-runner.js';
import { BuildError } from './build-error.js';
import { runPlannedStage } from './run-stage.js';
import type { Session } from './session-context.js';
import type { PlannedStage } from './stage-plan.js';

/** Bumped when the way prepare runs changes, so old cached images are not reused. */
const PREPARE_FORMAT = 2;
export const DEFAULT_CACHE_REPOSITORY = 'kiln-cache/prepare';

/**
 * The key of a compiler image: the repository and package it belongs to (a
 * compiler image is never shared across them, so nobody can poison another's),
 * the base image's id (not its name, which can move), the prepare section, and
 * the manifest's variables (a prepare line may use them). The workspace is not
 * part of it: prepare runs without it.
 */
export function prepareCacheKey(
  owner: { repo: string; package: string; arch?: string },
  baseImageId: string,
  prepare: ManifestSection,
  vars: readonly EnvVar[],
): string {
  const material = JSON.stringify({
    format: PREPARE_FORMAT,
    repo: owner.repo,
    package: owner.package,
    // Absent for the host's arch, so compiler images cached before builds had an arch stay in use.
    ...(owner.arch ? { arch: owner.arch } : {}),
    base: baseImageId,
    script: prepare.script,
    network: prepare.network ?? true,
    vars,
  });
  return createHash('sha256').update(material).digest('hex');
}

export function prepareCacheTag(key: string): string {
  return key.slice(0, 32);
}

/** The image later stages start from: the base image, or the base image with prepare's changes. */
export interface CompilerImage {
  ref: string;
  info: ImageInfo;
}

export type PrepareOutcome =
  { status: 'succeeded'; compiler: CompilerImage } | { status: 'failed' | 'cancelled'; result: StageResult };

/**
 * Where the prepare cache is decided: a compiler image under this build's
 * key is used as it is (prepare does not run); otherwise prepare runs in a
 * fresh container of the base image, without the workspace, and the result
 * is committed under the key for the next build.
 */
export async function prepareCompilerImage(
  session: Session,
  base: ImageInfo,
  section: ManifestSection,
): Promise<PrepareOutcome> {
  const { deps, request, report, log } = session;
  const key = prepareCacheKey(session.cacheOwner, base.id, section, request.manifest.environment.vars);
  const ref = `${deps.cacheRepository}:${prepareCacheTag(key)}`;
  const cached = await deps.runtime.images.inspect(ref);
  const position = report.nextPosition;
  if (cached) {
    request.events?.stageStarted?.({ stage: 'prepare', position, image: ref });
    log.system('prepare', `using the cached compiler image ${ref}\n`);
    const stage: StageReport = {
      name: 'prepare',
      status: 'succeeded',
      image: ref,
      exitCode: 0,
      durationMs: 0,
      commands: [],
      cached: true,
    };
    report.addStage(stage);
    request.events?.stageFinished?.({ ...stage, position });
    return { status: 'succeeded', compiler: { ref, info: cached } };
  }
  // Prepare runs without the workspace: its result is cached by image and section alone.
  const stage: PlannedStage = { name: 'prepare', role: 'prepare', section };
  const prepared = await session.containers.take(session.containers.make(stage, base.id, [], '/'));
  const result = await runPlannedStage(session, stage, prepared, request.manifest.image);
  if (result.status !== 'succeeded') return { status: result.status, result };
  const labels = {
    [LABEL.role]: 'prepare-cache',
    [LABEL.cacheKey]: key,
    [LABEL.buildId]: request.buildId,
    // The image's arch is the build's, whatever Docker calls a commit of it.
    [ARCH_LABEL]: session.arch,
    // Cleared, not inherited from the container: a cache belongs to no process.
    [LABEL.owner]: '',
    [LABEL.ownerPid]: '',
    [LABEL.stage]: '',
  };
  const [repository, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  await prepared.container.commit({ repository, tag, labels, base });
  const info = await deps.runtime.images.inspect(ref);
  if (!info) throw new BuildError(`the compiler image ${ref} vanished right after it was made`);
  log.system('prepare', `saved the compiler image ${ref}\n`);
  return { status: 'succeeded', compiler: { ref, info } };
}
