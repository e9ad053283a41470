import type { BuildReport } from '@kiln/shared';
import { buildMounts } from '../cache-mounts.js';
import { PayloadTooLargeError } from '../payload/index.js';
import type { BuildOutcome, BuildRequest } from '../types.js';
import { BuildError } from './build-error.js';
import { resolveBaseImage } from './image-resolution.js';
import { describeForeignFiles, foreignFileFlag, foreignMachineFiles } from '../inspect/machine-check.js';
import { contentPolicy, describeFlags } from './payload-inspection.js';
import { prepareCompilerImage, type CompilerImage } from './prepare-cache.js';
import { ReportAssembly } from './report-assembly.js';
import { createSessionContext, type Session, type SessionDeps } from './session-context.js';
import { StageContainers } from './stage-containers.js';
import { checkNetworkRequests } from './stage-network.js';
import { runStages } from './stage-loop.js';
import { planStages } from './stage-plan.js';
import { checkWorkspace } from './workspace-check.js';
import type { TrustDocument } from '../../trust/attest.js';
import { attestSession } from '../../trust/attest-session.js';

/**
 * One build, as named steps: checks, the base image, prepare (or its cached
 * compiler image), each stage in a fresh container, install and its payload,
 * the report. Containers are always removed, whatever happens.
 */
export class BuildSession {
  private readonly session: Session;
  private documents: TrustDocument[] = [];

  constructor(deps: SessionDeps, request: BuildRequest) {
    const ctx = createSessionContext(deps, request);
    this.session = { ...ctx, containers: new StageContainers(ctx), report: new ReportAssembly(ctx) };
  }

  async run(): Promise<BuildOutcome> {
    const { request, report, masker, log, clock, containers, logger } = this.session;
    let built: BuildReport;
    try {
      built = await this.execute();
    } catch (err) {
      if (request.signal?.aborted) {
        built = report.finish('cancelled', 'cancelled', null);
      } else if (err instanceof BuildError) {
        built = report.finish('errored', masker.mask(err.message), null);
      } else if (err instanceof PayloadTooLargeError) {
        built = report.failed('install', err.message);
      } else {
        await containers.removeAll();
        throw err;
      }
    }
    const cleanedUp = containers.removeAll().catch((err: unknown) => logger?.warn({ err }, 'could not clean up'));
    // The caller may record the report while the containers go.
    if (!request.deferCleanup) await cleanedUp;
    return {
      report: { ...built, timings: clock.timings() },
      log: log.chunks(),
      logTruncatedBytes: log.truncatedBytes,
      ...(this.documents.length > 0 ? { documents: this.documents } : {}),
      cleanedUp,
    };
  }

  private async execute(): Promise<BuildReport> {
    const session = this.session;
    const { request, report, clock, log } = session;
    const { manifest } = request;
    for (const note of session.env.notes) log.system('', `${note}\n`);
    await checkWorkspace(request.workspace);
    checkNetworkRequests(session);
    const base = await clock.time('image', () => resolveBaseImage(session));
    const plan = planStages(manifest);

    let compiler: CompilerImage = { ref: manifest.image, info: base };
    if (manifest.prepare) {
      const section = manifest.prepare;
      const prepared = await clock.time('prepare', () => prepareCompilerImage(session, base, section));
      if (prepared.status !== 'succeeded') {
        const failed = report.lastStage()!;
        report.skip(plan);
        return report.finishAfter(prepared.status, failed, prepared.result);
      }
      compiler = prepared.compiler;
    }

    // The workspace and the manifest's `cache` paths, which belong to this repository and package alone.
    const { runtime, owner } = session.deps;
    // A reproducibility check's second build starts from nothing the first one left in a cache.
    const cache = request.variation ? [] : manifest.cache;
    const mounts = await buildMounts(
      runtime,
      owner,
      request.workspace,
      cache,
      session.cacheOwner,
      session.workspacePath,
    );
    const stages = await runStages(session, plan, compiler, mounts);
    if (stages.kind === 'ended') return stages.report;
    const foreign = foreignMachineFiles(stages.payload?.files ?? [], session.arch);
    if (foreign.length > 0 && (manifest.policy?.machine ?? 'fail') === 'fail') {
      return report.failed('install', describeForeignFiles(foreign, session.arch));
    }
    const flags = report.flagsFound();
    if (flags.length > 0 && contentPolicy(session) === 'fail') {
      return report.failed('install', `the content policy flagged ${flags.length} file(s): ${describeFlags(flags)}`);
    }
    // Allowed by the manifest: recorded with the content policy's flags, and said in the log.
    const allowed = foreign.map((f) => foreignFileFlag(f, session.arch));
    for (const flag of allowed) log.system('install', `machine check (allowed): ${flag.path} ${flag.message}\n`);
    if (allowed.length > 0) report.setFlags([...flags, ...allowed]);
    if (stages.payload && request.package && !request.variation) {
      const documents = await clock.time('attestation', () => attestSession(session, base, compiler, stages.payload!));
      this.documents = documents;
      report.setAttestations(documents.map(({ body: _body, ...attestation }) => attestation));
    }
    return report.finish('succeeded', null, stages.payload);
  }
}
