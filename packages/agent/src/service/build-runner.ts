import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  InvalidInputError,
  ManifestError,
  isErrorNamed,
  readManifestFrom,
  redactRepo,
  redactUrlsIn,
  repoIdentity,
  toError,
  type ArtifactFormat,
  type BuildReport,
  PhaseClock,
  type Logger,
  type Manifest,
  type Queryable,
} from '@kiln/shared';
import { withSecretsMasked } from '../engine/build-environment.js';
import type { BuildEngine } from '../engine/types.js';
import type { AttemptRef, BuildResult, BuildStore, JobWithId } from './store/index.js';
import type { BuildEventPublisher } from './build-events.js';
import type { CancelRequests } from './cancel-listener.js';
import { CheckoutError, type CheckedOut, type Checkout, type ResolvedCommit } from './checkout.js';
import { buildProgress } from './build-progress.js';
import { cancelledReport, errored } from './early-reports.js';
import { startLease } from './lease.js';
import { LiveLog } from './live-log.js';
import { packageOf } from './package-of.js';
import type { TrustDocument } from '../trust/attest.js';
import { manifestDigester } from '../trust/manifest-digest.js';
import { provenanceOf } from '../trust/provenance-request.js';

export interface BuildRunnerOptions {
  store: BuildStore;
  /** Where the live log goes (the pool the store uses). */
  db: Queryable;
  checkout: Checkout;
  engine: BuildEngine;
  events: BuildEventPublisher;
  /** Cancel requests from kiln server; none: builds are never cancelled. */
  cancels?: CancelRequests;
  /** Checkouts go to `<workDir>/<build id>-<attempt>`. */
  workDir: string;
  artifactDir?: string;
  artifactFormat?: ArtifactFormat;
  /** Passed to the engine for `environment.inherit: true`, only where the operator allows it. */
  hostEnv?: Record<string, string | undefined>;
  leaseMs: number;
  renewEveryMs: number;
  logLimitBytes: number;
  logger: Logger;
}

/** How one attempt ended, from the handler's point of view. */
export type RunOutcome =
  /** `cleanedUp` settles when the containers and the workspace are gone: the result can be recorded meanwhile. */
  | { kind: 'result'; result: BuildResult; cleanedUp: Promise<void> }
  /** Something around the build broke (Docker, disk): give the job back, try again later. */
  | { kind: 'retry'; error: Error }
  /** Shutting down: the build was stopped; give the job back. */
  | { kind: 'abandoned' }
  /** Another attempt owns the build now: nothing of this one may be recorded. */
  | { kind: 'lost' };

/**
 * Runs one claimed attempt: lease, checkout, manifest, engine, live log and
 * events. It records progress as it goes but never the final result: that is
 * the handler's, in one transaction, before the ack.
 */
export class BuildRunner {
  constructor(private readonly options: BuildRunnerOptions) {}

  async run(
    job: JobWithId,
    ref: AttemptRef,
    shutdown: AbortSignal,
    clock: PhaseClock = new PhaseClock(),
  ): Promise<RunOutcome> {
    const { store, events } = this.options;
    const logger = this.options.logger.child({ buildId: ref.buildId, attempt: ref.attempt });
    const abort = new AbortController();
    let lost = false;
    let cancelled = false;
    const onShutdown = (): void => abort.abort(new Error('the agent is shutting down'));
    if (shutdown.aborted) onShutdown();
    else shutdown.addEventListener('abort', onShutdown, { once: true });
    const lease = startLease({
      store,
      ref,
      leaseMs: this.options.leaseMs,
      renewEveryMs: this.options.renewEveryMs,
      logger,
      onLost: () => {
        lost = true;
        abort.abort(new Error('lost the lease'));
      },
      onCancel: () => onCancel(),
    });
    const live = new LiveLog({
      db: this.options.db,
      buildId: ref.buildId,
      attempt: ref.attempt,
      limitBytes: this.options.logLimitBytes,
      logger,
      onRows: (rows) => events.publish(ref.buildId, 'log', { attempt: ref.attempt, rows }),
    });
    const say = (stage: string, text: string): void => {
      live.append({ stage, stream: 'system', text: `[kiln] ${text}\n`, at: Date.now() });
    };
    // A cancel stops the build like a shutdown does, but the attempt is recorded (`cancelled`), not requeued.
    const onCancel = (): void => {
      if (cancelled || abort.signal.aborted) return;
      cancelled = true;
      say('kiln', 'cancel requested: stopping the build');
      abort.abort(new Error('cancelled on request'));
    };
    const unwatch = this.options.cancels?.watch(ref.buildId, onCancel);
    const workspace = path.join(this.options.workDir, `${ref.buildId}-${ref.attempt}`);
    // Earlier attempts' checkouts, if they died on this host (agents of a host share the work folder).
    for (let earlier = 1; earlier < ref.attempt; earlier++) {
      await rm(path.join(this.options.workDir, `${ref.buildId}-${earlier}`), { recursive: true, force: true }).catch(
        () => undefined,
      );
    }
    const started = Date.now();
    const stageStartedAt: Array<Date | undefined> = [];
    let pkg = packageOf(job, job.branch ?? null, null);
    let checkedOut: CheckedOut | null = null;
    let manifest: Manifest | null = null;
    let engineCleanup: Promise<void> = Promise.resolve();
    let filled: Promise<void> = Promise.resolve();
    let finished = false;
    let documents: TrustDocument[] | undefined;
    let markCleanedUp: (cleaning: Promise<void>) => void = () => undefined;
    const cleanedUp = new Promise<void>((resolve) => (markCleanedUp = resolve));

    events.publish(ref.buildId, 'started', {
      attempt: ref.attempt,
      agent: ref.agent,
      repo: redactRepo(job.repo),
      branch: job.branch ?? null,
    });
    logger.info({ repo: redactRepo(job.repo), branch: job.branch, commit: job.commit }, 'build started');

    const finish = async (report: BuildReport): Promise<RunOutcome> => {
      const closed = await live.close();
      const result: BuildResult = {
        report: { ...report, timings: clock.timings() },
        timingsOrigin: new Date(clock.origin),
        // What is stored never holds a secret value (the engine masks them in logs alike).
        manifest: manifest ? withSecretsMasked(manifest) : null,
        commit: checkedOut?.commit ?? job.commit ?? null,
        package: pkg,
        maintainer: manifest?.package.maintainer,
        commitAuthor: checkedOut?.author.email ? checkedOut.author : undefined,
        startedAt: new Date(started),
        stageStartedAt,
        ...(documents ? { documents } : {}),
      };
      if (closed.truncated) {
        result.log = { chunks: closed.kept, firstSeq: closed.nextSeq, truncatedBytes: closed.truncatedBytes };
      }
      // Recorded by the caller while the containers and the workspace go (see the finally below).
      finished = true;
      return { kind: 'result', result, cleanedUp };
    };

    try {
      say(
        'checkout',
        `attempt ${ref.attempt} on ${ref.agent}: fetching ${redactRepo(job.repo)}${job.branch ? ` ${job.branch}` : ''}${job.commit ? ` at ${job.commit}` : ''}`,
      );
      const endCheckout = clock.start('checkout');
      let resolved: ResolvedCommit;
      try {
        resolved = await this.options.checkout.resolve({
          repo: job.repo,
          branch: job.branch,
          commit: job.commit,
          signal: abort.signal,
        });
      } catch (err) {
        endCheckout();
        if (cancelled && !lost && !shutdown.aborted) return await finish(cancelledReport(pkg, started));
        // Stopped on purpose (shutdown, lost lease): not the repository's fault.
        if (abort.signal.aborted || !(err instanceof CheckoutError)) throw err;
        say('checkout', err.message);
        return await finish(errored(pkg, started, 'checkout', err.message));
      }
      checkedOut = { commit: resolved.commit, branch: resolved.branch, author: resolved.author };
      // The workspace is written while the manifest is read and the engine makes the build's containers.
      await mkdir(workspace, { recursive: true });
      filled = resolved.fill(workspace, abort.signal).finally(endCheckout);
      filled.catch(() => undefined);
      say('checkout', `checked out ${checkedOut.commit}${checkedOut.branch ? ` (${checkedOut.branch})` : ''}`);
      pkg = packageOf(job, checkedOut.branch, null);
      const endManifest = clock.start('manifest');
      const manifestFile = manifestDigester();
      try {
        manifest = await readManifestFrom(manifestFile.source((file) => resolved.readFile(file)));
      } catch (err) {
        if (!(err instanceof ManifestError)) throw err;
        say('manifest', err.message);
        await store
          .recordCheckout(ref, { commit: checkedOut.commit, branch: checkedOut.branch, package: pkg, manifest: null })
          .catch(() => {});
        return await finish(errored(pkg, started, 'manifest', err.message));
      }
      pkg = packageOf(job, checkedOut.branch, manifest);
      await store
        .recordCheckout(ref, {
          commit: checkedOut.commit,
          branch: checkedOut.branch,
          package: pkg,
          manifest: withSecretsMasked(manifest),
        })
        .catch((err: unknown) => logger.warn({ err }, 'could not record the checkout; going on'));

      // A package name belongs to its repository: another one claiming it (by branch or package.name) builds nothing.
      const refusal = pkg ? await store.ownershipProblem(pkg.name, repoIdentity(job.repo)) : null;
      endManifest();
      if (refusal) {
        say('ownership', refusal);
        return await finish(errored(pkg, started, 'ownership', refusal));
      }

      const outcome = await this.options.engine.build({
        buildId: ref.buildId,
        workspace,
        repo: repoIdentity(job.repo),
        manifest,
        package: pkg,
        // The arch its job was routed to; a job from before routing builds for this host's.
        ...(job.arch ? { arch: job.arch } : {}),
        artifactDir: this.options.artifactDir,
        ...(this.options.artifactFormat ? { artifactFormat: this.options.artifactFormat } : {}),
        hostEnv: this.options.hostEnv,
        signal: abort.signal,
        clock,
        deferCleanup: true,
        workspaceReady: filled,
        ...(resolved.committedAt !== undefined ? { sourceDateEpoch: resolved.committedAt } : {}),
        provenance: provenanceOf(job, checkedOut, manifestFile.found(), ref.agent),
        events: buildProgress({ ref, store, events, live, logger, stageStartedAt }),
      });
      engineCleanup = outcome.cleanedUp;
      if (lost) return { kind: 'lost' };
      if (shutdown.aborted) return { kind: 'abandoned' };
      documents = outcome.documents;
      return await finish({ ...outcome.report, package: outcome.report.package ?? pkg });
    } catch (thrown) {
      if (lost) return { kind: 'lost' };
      if (shutdown.aborted) return { kind: 'abandoned' };
      if (cancelled) return await finish(cancelledReport(pkg, started));
      const err = toError(thrown);
      if (err instanceof InvalidInputError || isErrorNamed(err, 'InvalidInputError')) {
        say('kiln', err.message);
        return await finish(errored(pkg, started, 'setup', redactUrlsIn(err.message)));
      }
      logger.warn({ err }, 'build could not run; the job goes back to the queue');
      return { kind: 'retry', error: err };
    } finally {
      unwatch?.();
      lease.stop();
      shutdown.removeEventListener('abort', onShutdown);
      await live.close().catch(() => undefined);
      // A build that ended before its engine ran may still be writing the workspace.
      await filled.catch(() => undefined);
      const cleaning = clock.time('cleanup', async () => {
        await Promise.all([
          engineCleanup,
          rm(workspace, { recursive: true, force: true }).catch((err: unknown) =>
            logger.warn({ err, workspace }, 'could not remove the workspace'),
          ),
        ]);
      });
      // Only a result is recorded while cleaning up; anything else waits for it here.
      markCleanedUp(cleaning);
      if (!finished) await cleaning;
    }
  }
}
