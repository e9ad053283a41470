import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ReproducibilityCheck } from '@kiln/shared';
import { toError } from '@kiln/shared';
import type { ContainerRuntime } from '../engine/container-runtime.js';
import type { Owner } from '../engine/labels.js';
import type { BuildOutcome, BuildRequest, LogChunk } from '../engine/types.js';
import { CLOCK_SHIFT_MARK, describeVariation, makeVariation } from './build-variation.js';
import { differingFiles } from './compare-payloads.js';
import { describeDifferences } from './diffoscope.js';

export interface CheckOptions {
  /** KILN_VERIFY_REPRODUCIBLE: the fraction of builds checked besides those whose manifest asks. */
  fraction: number;
  diffoscopeImage: string;
  runtime: ContainerRuntime;
  owner: Owner;
  limits: { memoryBytes: number; cpus: number; pids: number };
}

/** Whether this build is checked: its manifest asks, or it falls in the operator's fraction (by its id, so a retry decides alike). */
export function wantsCheck(request: BuildRequest, fraction: number): boolean {
  if (request.variation) return false;
  if (request.manifest.verify?.includes('reproducible')) return true;
  if (fraction <= 0) return false;
  const draw = createHash('sha256').update(request.buildId).digest().readUInt32BE(0) / 2 ** 32;
  return draw < fraction;
}

/**
 * A build, and when it is to be checked, the same build a second time in the
 * same attempt with a varied environment, its payload compared with the
 * first file by file. The second build starts as soon as the first has its
 * compiler image (the two run side by side, sharing the prepared image), from
 * a copy of the checkout taken before the first build's stages touch it.
 *
 * Why in the same attempt rather than as a second job on build_queue: the
 * attempt's claim, lease and single result transaction already make a build
 * happen exactly once; the check rides on them, so it is recorded with the
 * build or not at all, and an agent that dies takes both builds with it and
 * the retry does both again. A second job would need its own claim, a join of
 * two results and a rule for when only one of them survives.
 */
export async function buildChecked(
  build: (request: BuildRequest) => Promise<BuildOutcome>,
  request: BuildRequest,
  options: CheckOptions,
): Promise<BuildOutcome> {
  const workspace = path.resolve(request.workspace);
  const scratch = await mkdtemp(path.join(path.dirname(workspace), `.${path.basename(workspace)}-check-`));
  const say = (text: string): LogChunk => {
    const chunk: LogChunk = { stage: 'reproducibility', stream: 'system', text: `[kiln] ${text}\n`, at: Date.now() };
    request.events?.log?.(chunk);
    return chunk;
  };
  const source = path.join(scratch, 'source');
  const copied = (request.workspaceReady ?? Promise.resolve()).then(() =>
    cp(workspace, source, { recursive: true, verbatimSymlinks: true }),
  );
  let compilerReady: () => void = () => undefined;
  const compiler = new Promise<void>((resolve) => (compilerReady = resolve));
  const stop = new AbortController();
  const first = build({
    ...request,
    workspaceReady: copied,
    events: {
      ...request.events,
      stageStarted: (e) => {
        if (e.stage !== 'prepare') compilerReady();
        request.events?.stageStarted?.(e);
      },
    },
  });
  void first.finally(compilerReady).catch(() => undefined);
  const variation = makeVariation();
  let started = Date.now();
  const second = (async (): Promise<BuildOutcome | Error> => {
    await compiler;
    await copied;
    if (stop.signal.aborted) return new Error('the first build did not succeed');
    started = Date.now();
    await mkdir(path.join(scratch, 'artifacts'));
    const signals = [stop.signal, ...(request.signal ? [request.signal] : [])];
    return build({
      buildId: `${request.buildId}-check`,
      workspace: source,
      ...(request.repo ? { repo: request.repo } : {}),
      manifest: request.manifest,
      package: request.package,
      artifactDir: path.join(scratch, 'artifacts'),
      ...(request.artifactFormat ? { artifactFormat: request.artifactFormat } : {}),
      ...(request.hostEnv ? { hostEnv: request.hostEnv } : {}),
      ...(request.sourceDateEpoch !== undefined ? { sourceDateEpoch: request.sourceDateEpoch } : {}),
      signal: AbortSignal.any(signals),
      variation,
    });
  })().catch((err: unknown) => toError(err));

  let outcome: BuildOutcome;
  try {
    outcome = await first;
  } catch (err) {
    stop.abort();
    await settle(second);
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  if (outcome.report.status !== 'succeeded' || !outcome.report.install) {
    stop.abort();
    const cleanedUp = settle(second).then(() => rm(scratch, { recursive: true, force: true }).catch(() => undefined));
    return { ...outcome, cleanedUp: Promise.all([outcome.cleanedUp, cleanedUp]).then(() => undefined) };
  }
  say('building a second time with a varied environment, to check that the build is reproducible');
  const ended = request.clock?.start('reproducibility');
  const again = await second;
  let check: ReproducibilityCheck;
  try {
    check = await compare(outcome, again, { options, scratch, variation, started, buildId: request.buildId });
  } finally {
    ended?.();
  }
  const chunks = [
    say(
      check.status === 'reproducible'
        ? `reproducible: the second build installed the same ${outcome.report.install.files.length} files`
        : check.status === 'unreproducible'
          ? `unreproducible: ${check.differing.length} file(s) differ: ${check.differing.slice(0, 5).join(', ')}${check.differing.length > 5 ? ', …' : ''}`
          : `the reproducibility check could not be done: ${check.error ?? ''}`,
    ),
  ];
  const cleanedUp = Promise.all([outcome.cleanedUp, again instanceof Error ? undefined : again.cleanedUp]).then(() =>
    rm(scratch, { recursive: true, force: true }).catch(() => undefined),
  );
  return {
    ...outcome,
    report: { ...outcome.report, reproducibility: check },
    log: [...outcome.log, ...chunks],
    cleanedUp,
  };
}

async function compare(
  first: BuildOutcome,
  second: BuildOutcome | Error,
  context: {
    options: CheckOptions;
    scratch: string;
    variation: ReturnType<typeof makeVariation>;
    started: number;
    buildId: string;
  },
): Promise<ReproducibilityCheck> {
  const clockShifted =
    !(second instanceof Error) && second.log.some((c) => c.stream === 'stderr' && c.text.includes(CLOCK_SHIFT_MARK));
  const base = { variations: describeVariation(context.variation, clockShifted) };
  const done = (check: Omit<ReproducibilityCheck, 'variations' | 'durationMs'>): ReproducibilityCheck => ({
    ...check,
    ...base,
    durationMs: Date.now() - context.started,
  });
  if (second instanceof Error) return done({ status: 'error', differing: [], error: second.message });
  const other = second.report;
  if (other.status !== 'succeeded' || !other.install) {
    return done({ status: 'error', differing: [], error: `the second build ${other.status}: ${other.error ?? ''}` });
  }
  const a = first.report.install!;
  const differing = differingFiles(a.files, other.install.files);
  if (differing.length === 0) return done({ status: 'reproducible', differing });
  let differences: Array<{ path: string; diff: string }> = [];
  if (a.artifact && other.install.artifact) {
    differences = await describeDifferences({
      run: {
        runtime: context.options.runtime,
        owner: context.options.owner,
        buildId: context.buildId,
        ...context.options.limits,
      },
      image: context.options.diffoscopeImage,
      dir: path.join(context.scratch, 'compare'),
      artifacts: { first: a.artifact.path, second: other.install.artifact.path },
      first: a.files,
      second: other.install.files,
      differing,
    }).catch((err: unknown) =>
      differing.slice(0, 5).map((p) => ({ path: p, diff: `diffoscope failed: ${toError(err).message}` })),
    );
  }
  return done({ status: 'unreproducible', differing, differences });
}

async function settle(work: Promise<BuildOutcome | Error>): Promise<void> {
  const result = await work;
  if (!(result instanceof Error)) await result.cleanedUp;
}
