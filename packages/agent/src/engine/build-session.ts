import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BuildReport, InstallReport, Logger, ManifestSection, PolicyFlag, StageReport } from '@kiln/shared';
import { PhaseClock, toError } from '@kiln/shared';
import { resolveEnvironment, type BuildEnvironment } from './build-environment.js';
import type { BuildIsolation } from './build-network.js';
import { buildMounts, type CacheOwner } from './cache-mounts.js';
import { checkContent } from './content-policy.js';
import type { ContainerRuntime, ContainerSpec, ImageInfo, Mount, StageContainer } from './container-runtime.js';
import { buildLabels, LABEL, type Owner, type ResourceRole } from './labels.js';
import { formatBytes } from './limits-text.js';
import { LogKeeper } from './log-keeper.js';
import { artifactTarget, PayloadTooLargeError, progressLines, streamPayload } from './payload/index.js';
import { prepareCacheKey, prepareCacheTag } from './prepare-cache.js';
import { SecretMasker } from './secret-masker.js';
import { attestBuild, type TrustDocument } from '../trust/attest.js';
import { debianHostArch } from '../trust/host-arch.js';
import type { Signer } from '../trust/signing-key.js';
import { withSourceDateEpoch } from '../trust/source-date-epoch.js';
import { variationPreamble, withVariation } from '../trust/build-variation.js';
import { sensitiveDigests } from './sensitive-files.js';
import { prepareStage, type PreparedStage } from './stage-container.js';
import { runStage, type StageResult } from './stage-runner.js';
import { renderStageScript, STAGE_COMMAND } from './stage-script.js';
import {
  DESTDIR_PATH,
  WORKSPACE_PATH,
  type BuildOutcome,
  type BuildRequest,
  type LogStream,
  type ResourceLimits,
} from './types.js';

export interface SessionDeps {
  runtime: ContainerRuntime;
  limits: ResourceLimits;
  allowInheritEnv: boolean;
  cacheRepository: string;
  owner: Owner;
  /** Kiln's firewalled network, for KILN_NETWORK=isolated. */
  isolation?: BuildIsolation;
  /** The farm's key, for provenance (see trust/attest.ts). */
  signer?: () => Promise<Signer>;
  logger?: Logger;
}

interface PlannedStage {
  name: string;
  role: ResourceRole;
  section: ManifestSection;
}

/** A stage's container being made ahead of time; a failure surfaces when it is needed. */
type Pending = Promise<{ prepared: PreparedStage } | { error: Error }>;

const KILN_DIR = path.posix.dirname(DESTDIR_PATH);
/**
 * Stage containers made ahead of the one running. Making one (create, copy
 * the script in, attach) takes longer than a short stage runs; two ahead keep
 * a container ready. Unused ones (after a failure) are removed with the rest.
 */
const LOOKAHEAD = 2;
const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

/** A build could not run as asked (not a failing command): reported as `errored`. */
class BuildError extends Error {}

/**
 * One build: prepare (or its cached image), each stage in a fresh container,
 * install, payload inspection and artifact. Containers are always removed,
 * whatever happens.
 */
export class BuildSession {
  private readonly started = Date.now();
  private readonly clock: PhaseClock;
  private readonly token = `::kiln-${randomBytes(16).toString('hex')}::`;
  private readonly env: BuildEnvironment;
  private readonly masker: SecretMasker;
  private readonly log: LogKeeper;
  private readonly stages: StageReport[] = [];
  private readonly containers = new Set<StageContainer>();
  private readonly pending = new Set<Pending>();
  private readonly removals: Array<Promise<Error | null>> = [];
  private flags: PolicyFlag[] = [];
  private documents: TrustDocument[] = [];
  private readonly workspacePath: string;
  private readonly cacheOwner: CacheOwner;
  private readonly logger?: Logger;

  constructor(
    private readonly deps: SessionDeps,
    private readonly request: BuildRequest,
  ) {
    this.env = withSourceDateEpoch(
      withVariation(resolveEnvironment(request.manifest, request.hostEnv, deps.allowInheritEnv), request.variation),
      request.sourceDateEpoch,
    );
    this.workspacePath = request.variation?.workspacePath ?? WORKSPACE_PATH;
    this.masker = new SecretMasker(this.env.secrets);
    this.log = new LogKeeper(deps.limits.logLimitBytes);
    this.clock = request.clock ?? new PhaseClock(this.started);
    this.logger = deps.logger?.child({ buildId: request.buildId });
    const workspace = path.resolve(request.workspace);
    this.cacheOwner = {
      repo: request.repo ?? workspace,
      package: request.package?.name ?? request.manifest.package.name ?? path.basename(workspace),
    };
  }

  async run(): Promise<BuildOutcome> {
    let report: BuildReport;
    try {
      report = await this.execute();
    } catch (err) {
      if (this.request.signal?.aborted) {
        report = this.finish('cancelled', 'cancelled', null);
      } else if (err instanceof BuildError) {
        report = this.finish('errored', this.masker.mask(err.message), null);
      } else if (err instanceof PayloadTooLargeError) {
        report = this.failed('install', err.message);
      } else {
        await this.cleanup();
        throw err;
      }
    }
    const cleanedUp = this.cleanup().catch((err: unknown) => this.logger?.warn({ err }, 'could not clean up'));
    // The caller may record the report while the containers go.
    if (!this.request.deferCleanup) await cleanedUp;
    return {
      report: { ...report, timings: this.clock.timings() },
      log: this.log.chunks(),
      logTruncatedBytes: this.log.truncatedBytes,
      ...(this.documents.length > 0 ? { documents: this.documents } : {}),
      cleanedUp,
    };
  }

  private async execute(): Promise<BuildReport> {
    const { manifest } = this.request;
    for (const note of this.env.notes) this.system('', `${note}\n`);
    await this.checkWorkspace();
    this.checkNetworkRequests();
    const base = await this.clock.time('image', () => this.ensureImage(manifest.image));
    if (base.labels[LABEL.role] === 'prepare-cache') {
      throw new BuildError(
        `image ${manifest.image} is a compiler image Kiln cached for a build; builds start from ordinary images`,
      );
    }
    const plan: PlannedStage[] = manifest.stages.map((s) => ({ name: s.name, role: 'stage', section: s }));
    if (manifest.install) plan.push({ name: 'install', role: 'install', section: manifest.install });
    const skipRest = (from: number) => {
      for (const s of plan.slice(from)) this.stages.push(skipped(s.name));
    };

    let compiler = { ref: manifest.image, info: base };
    if (manifest.prepare) {
      const prepared = await this.clock.time('prepare', () => this.prepare(base, manifest.prepare!));
      if (prepared.status !== 'succeeded') {
        const failed = this.stages.at(-1)!;
        skipRest(0);
        return this.finishAfter(prepared.status, failed, prepared.result);
      }
      compiler = prepared.compiler;
    }

    const mounts = await this.mounts();
    // Containers are made ahead, while earlier stages run: a fresh container per stage at no extra wait.
    const made = new Map<number, Pending>();
    const makeAhead = (from: number) => {
      for (let j = from; j < Math.min(plan.length, from + LOOKAHEAD); j++) {
        if (!made.has(j)) made.set(j, this.precreate(plan[j]!, compiler.info.id, mounts));
      }
    };
    makeAhead(0);
    // The workspace may still be being written (checkout overlaps making the containers).
    await this.request.workspaceReady;
    let payload: InstallReport | null = null;
    for (let i = 0; i < plan.length; i++) {
      const stage = plan[i]!;
      const ended = this.clock.start(stage.role === 'install' ? 'install' : 'stage', stage.name);
      const current = await this.take(made.get(i)!);
      makeAhead(i + 1);
      const result = await this.runOne(stage, current, compiler.ref).finally(ended);
      if (result.status !== 'succeeded') {
        const failed = this.stages.at(-1)!;
        skipRest(i + 1);
        return this.finishAfter(result.status, failed, result);
      }
      if (stage.role === 'install') payload = await this.inspect(current, mounts);
      else this.discard(current);
    }
    if (this.flags.length > 0 && this.contentPolicy() === 'fail') {
      return this.failed(
        'install',
        `the content policy flagged ${this.flags.length} file(s): ${describeFlags(this.flags)}`,
      );
    }
    const pkg = this.request.package;
    if (payload && pkg && !this.request.variation) {
      const images = {
        base: { ref: manifest.image, id: base.id },
        compiler: { ref: compiler.ref, id: compiler.info.id },
      };
      const { runtime, owner, limits } = this.deps;
      const finishedOn = new Date();
      const signer = await this.deps.signer?.();
      this.documents = await this.clock.time('attestation', () =>
        attestBuild({
          runtime,
          owner,
          limits,
          images,
          finishedOn,
          install: payload,
          package: pkg,
          buildId: this.request.buildId,
          startedOn: new Date(this.started),
          hostArch: debianHostArch(),
          note: (text) => this.system('install', text),
          ...(this.request.sourceDateEpoch !== undefined ? { sourceDateEpoch: this.request.sourceDateEpoch } : {}),
          ...(this.request.provenance ? { provenance: this.request.provenance } : {}),
          ...(signer ? { signer } : {}),
        }),
      );
    }
    return this.finish('succeeded', null, payload);
  }

  private async prepare(
    base: ImageInfo,
    section: ManifestSection,
  ): Promise<
    | { status: 'succeeded'; compiler: { ref: string; info: ImageInfo } }
    | { status: 'failed' | 'cancelled'; result: StageResult }
  > {
    const key = prepareCacheKey(this.cacheOwner, base.id, section, this.request.manifest.environment.vars);
    const ref = `${this.deps.cacheRepository}:${prepareCacheTag(key)}`;
    const cached = await this.deps.runtime.images.inspect(ref);
    const position = this.stages.length;
    if (cached) {
      this.request.events?.stageStarted?.({ stage: 'prepare', position, image: ref });
      this.system('prepare', `using the cached compiler image ${ref}\n`);
      const report: StageReport = {
        name: 'prepare',
        status: 'succeeded',
        image: ref,
        exitCode: 0,
        durationMs: 0,
        commands: [],
        cached: true,
      };
      this.stages.push(report);
      this.request.events?.stageFinished?.({ ...report, position });
      return { status: 'succeeded', compiler: { ref, info: cached } };
    }
    // Prepare runs without the workspace: its result is cached by image and section alone.
    const stage: PlannedStage = { name: 'prepare', role: 'prepare', section };
    const prepared = await this.take(this.precreate(stage, base.id, [], '/'));
    const result = await this.runOne(stage, prepared, this.request.manifest.image);
    if (result.status !== 'succeeded') return { status: result.status, result };
    const labels = {
      [LABEL.role]: 'prepare-cache',
      [LABEL.cacheKey]: key,
      [LABEL.buildId]: this.request.buildId,
      // Cleared, not inherited from the container: a cache belongs to no process.
      [LABEL.owner]: '',
      [LABEL.ownerPid]: '',
      [LABEL.stage]: '',
    };
    const [repository, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    await prepared.container.commit({ repository, tag, labels, base });
    const info = await this.deps.runtime.images.inspect(ref);
    if (!info) throw new BuildError(`the compiler image ${ref} vanished right after it was made`);
    this.system('prepare', `saved the compiler image ${ref}\n`);
    return { status: 'succeeded', compiler: { ref, info } };
  }

  private async runOne(stage: PlannedStage, prepared: PreparedStage, image: string): Promise<StageResult> {
    const position = this.stages.length;
    const events = this.request.events;
    const limits = this.deps.limits;
    events?.stageStarted?.({ stage: stage.name, position, image });
    this.logger?.info({ stage: stage.name, image }, 'stage started');
    const result = await runStage(prepared, {
      stage: stage.name,
      lines: stage.section.script,
      token: this.token,
      timeoutMs: stage.section.timeoutMs ?? limits.stageTimeoutMs,
      idleTimeoutMs: limits.idleTimeoutMs,
      memoryBytes: limits.memoryBytes,
      pids: limits.pids,
      masker: this.masker,
      ...(this.request.signal ? { signal: this.request.signal } : {}),
      onOutput: (stream, text) => this.output(stage.name, stream, text),
      onCommandStarted: (index, command) => {
        this.system(stage.name, `$ ${command}\n`);
        events?.commandStarted?.({ stage: stage.name, position, index, command });
      },
      onCommandFinished: (index, command) => {
        events?.commandFinished?.({
          stage: stage.name,
          position,
          index,
          command: command.command,
          exitCode: command.exitCode ?? -1,
          durationMs: command.durationMs,
        });
      },
    }).catch((err: unknown) => {
      const error = toError(err);
      // An image without a shell cannot run any stage: the manifest's problem, not the host's.
      if (/exec: "?\/bin\/sh"?|\/bin\/sh: no such file/i.test(error.message)) {
        throw new BuildError(`image ${image} has no /bin/sh: Kiln runs each stage's script with it`, { cause: err });
      }
      throw error;
    });
    if (result.endedEarly)
      this.system(stage.name, 'the script called exit 0 before its last line: later lines did not run\n');
    const report: StageReport = {
      name: stage.name,
      status: result.status,
      image,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      commands: result.commands,
      ...(result.error ? { error: result.error } : {}),
    };
    this.stages.push(report);
    this.logger?.info(
      { stage: stage.name, status: result.status, exitCode: result.exitCode, durationMs: result.durationMs },
      'stage finished',
    );
    if (result.error) this.system(stage.name, `stage ${stage.name} ${result.status}: ${result.error}\n`);
    events?.stageFinished?.({ ...report, position });
    return result;
  }

  private precreate(stage: PlannedStage, image: string, mounts: Mount[], workdir = this.workspacePath): Pending {
    const { limits, owner } = this.deps;
    const spec: ContainerSpec = {
      name: containerName(this.request.buildId, stage.name),
      image,
      entrypoint: STAGE_COMMAND.slice(0, 1),
      command: STAGE_COMMAND.slice(1),
      stdin: true,
      workingDir: workdir,
      labels: buildLabels(owner, this.request.buildId, stage.role, stage.name),
      mounts,
      memoryBytes: limits.memoryBytes,
      cpus: limits.cpus,
      pids: limits.pids,
      network: 'none',
      ...(this.request.variation ? { hostname: this.request.variation.hostname } : {}),
      ...(this.request.variation?.cpuset ? { cpuset: this.request.variation.cpuset } : {}),
    };
    const script = renderStageScript({
      ...(this.request.variation
        ? { umask: this.request.variation.umask, preamble: variationPreamble(this.request.variation) }
        : {}),
      lines: stage.section.script,
      env: this.env.vars,
      token: this.token,
      workdir,
      ...(stage.role === 'install' ? { destdir: DESTDIR_PATH } : {}),
    });
    const pending: Pending = this.networkFor(stage)
      .then((network) => prepareStage(this.deps.runtime, { ...spec, network }, script))
      .then(
        (prepared) => {
          this.containers.add(prepared.container);
          return { prepared };
        },
        (err: unknown) => ({ error: toError(err) }),
      );
    this.pending.add(pending);
    return pending;
  }

  /**
   * The network is decided per phase, as Debian's build daemons do: prepare
   * may fetch build dependencies; later stages run with none unless the
   * manifest asks (`network: true`) and the operator allows it. Where there is
   * one, it is Kiln's isolated network unless the operator chose otherwise.
   */
  private async networkFor(stage: PlannedStage): Promise<string> {
    const wanted = stage.role === 'prepare' ? stage.section.network !== false : stage.section.network === true;
    const kind = this.deps.limits.network;
    if (!wanted || kind === 'none') return 'none';
    if (kind !== 'isolated') return kind;
    if (!this.deps.isolation) throw new BuildError('KILN_NETWORK=isolated, but this engine has no build network');
    return this.deps.isolation.network().catch((err: unknown) => {
      throw new BuildError(toError(err).message, { cause: err });
    });
  }

  private checkNetworkRequests(): void {
    if (this.deps.limits.allowStageNetwork) return;
    const { stages, install } = this.request.manifest;
    const asking = [...stages, ...(install ? [{ name: 'install', ...install }] : [])].filter((s) => s.network);
    if (asking.length > 0) {
      throw new BuildError(
        `stage "${asking[0]!.name}" asks for network: true, which this Kiln does not allow after prepare ` +
          '(fetch dependencies in prepare; the operator may allow it with KILN_ALLOW_STAGE_NETWORK)',
      );
    }
  }

  /** A finished stage's container goes at once, in the background: the next stage need not wait for it. */
  private discard(stage: PreparedStage): void {
    this.containers.delete(stage.container);
    const removal = stage.container.remove().then(
      () => null,
      (err: unknown) => toError(err),
    );
    this.removals.push(removal);
  }

  private async take(pending: Pending): Promise<PreparedStage> {
    const made = await pending;
    this.pending.delete(pending);
    if ('error' in made) throw imageProblem(made.error) ?? made.error;
    return made.prepared;
  }

  /** The payload in one streaming pass: read, hashed, classified and packed, with progress. */
  private async inspect(install: PreparedStage, mounts: Mount[]): Promise<InstallReport> {
    const { artifactDir, events, signal } = this.request;
    const note = (text: string) => this.system('install', text);
    const artifact = artifactDir ? await artifactTarget(this.request, artifactDir, note) : undefined;
    const lines = progressLines(note);
    // One pass reads, hashes, classifies and packs: inspection and artifact are one phase.
    const endInspection = this.clock.start('inspection');
    try {
      // Over KILN_PAYLOAD_LIMIT: PayloadTooLargeError, before any content is read (run() records it as failed).
      const payload = await streamPayload(install.container, {
        destdir: DESTDIR_PATH,
        kilnDir: KILN_DIR,
        workspace: this.workspacePath,
        mountTargets: mounts.map((m) => m.target),
        limitBytes: this.deps.limits.payloadLimitBytes,
        ...(artifact ? { artifact } : {}),
        ...(signal ? { signal } : {}),
        onProgress: (progress) => {
          lines(progress);
          events?.payload?.(progress);
        },
      });
      const { files, sizeBytes } = payload;
      this.system('install', `installed ${files.length} files, ${formatBytes(sizeBytes)}\n`);
      this.flags = checkContent({
        files,
        special: payload.special,
        sensitive: await sensitiveDigests(install.container),
      });
      for (const flag of this.flags) this.system('install', `content policy: ${flag.path} ${flag.message}\n`);
      return { sizeBytes, files, ...(payload.artifact ? { artifact: payload.artifact } : {}) };
    } finally {
      endInspection();
    }
  }

  private async ensureImage(ref: string): Promise<ImageInfo> {
    const images = this.deps.runtime.images;
    const local = await images.inspect(ref);
    if (local) return local;
    this.system('', `pulling ${ref}\n`);
    let lastShown = 0;
    try {
      await images.pull(
        ref,
        (progress) => {
          const now = Date.now();
          if (now - lastShown < 1000) return;
          lastShown = now;
          const amount = progress.total
            ? ` ${formatBytes(progress.current ?? 0)} of ${formatBytes(progress.total)}`
            : '';
          this.system('', `pulling ${ref}: ${progress.status}${amount}\n`);
        },
        this.request.signal,
      );
    } catch (err) {
      throw new BuildError(`image ${ref} is not on this host and could not be pulled: ${toError(err).message}`, {
        cause: err,
      });
    }
    const pulled = await images.inspect(ref);
    if (!pulled) throw new BuildError(`image ${ref} could not be found after pulling it`);
    return pulled;
  }

  private async checkWorkspace(): Promise<void> {
    const dir = path.resolve(this.request.workspace);
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) throw new BuildError(`workspace ${dir} is not a directory`);
    // Mounting a parent of Docker's socket would hand the build the host.
    if (DOCKER_SOCKETS.some((socket) => socket === dir || socket.startsWith(dir === '/' ? '/' : `${dir}/`))) {
      throw new BuildError(`workspace ${dir} contains the Docker socket: builds never get it`);
    }
  }

  /** The workspace and the manifest's `cache` paths, which belong to this repository and package alone. */
  private mounts(): Promise<Mount[]> {
    const { runtime, owner } = this.deps;
    // A reproducibility check's second build starts from nothing the first one left in a cache.
    const cache = this.request.variation ? [] : this.request.manifest.cache;
    return buildMounts(runtime, owner, this.request.workspace, cache, this.cacheOwner, this.workspacePath);
  }

  private contentPolicy(): 'warn' | 'fail' {
    return this.deps.limits.contentPolicy === 'fail' ? 'fail' : (this.request.manifest.policy?.content ?? 'warn');
  }

  private output(stage: string, stream: LogStream, text: string): void {
    const chunk = { stage, stream, text, at: Date.now() };
    this.log.add(chunk);
    this.request.events?.log?.(chunk);
  }

  private system(stage: string, text: string): void {
    this.output(stage, 'system', this.masker.mask(text));
  }

  private finishAfter(status: 'failed' | 'cancelled', stage: StageReport, result: StageResult): BuildReport {
    if (status === 'cancelled') return this.finish('cancelled', 'cancelled', null);
    const index = result.failedIndex;
    const command = index === undefined ? undefined : result.commands[index];
    const where = index === undefined || !command ? '' : ` at line ${index + 1} (${command.command})`;
    const reason = result.error ?? 'failed';
    const report = this.finish('failed', `stage "${stage.name}" failed${where}: ${reason}`, null);
    report.failure = {
      stage: stage.name,
      ...(command ? { command: command.command, exitCode: command.exitCode } : { exitCode: result.exitCode }),
      reason,
    };
    return report;
  }

  private finish(status: BuildReport['status'], error: string | null, install: InstallReport | null): BuildReport {
    if (error) this.system('', `build ${status}: ${error}\n`);
    return {
      status,
      package: this.request.package,
      durationMs: Date.now() - this.started,
      stages: this.stages,
      install,
      error,
      ...(this.request.sourceDateEpoch !== undefined ? { sourceDateEpoch: this.request.sourceDateEpoch } : {}),
      ...(this.documents.length > 0 ? { attestations: this.documents.map(({ body: _body, ...a }) => a) } : {}),
      ...(this.flags.length > 0 ? { flags: this.flags } : {}),
    };
  }

  /** A failure that is no command's: the payload over its limit, or flagged by a failing content policy. */
  private failed(stage: string, reason: string): BuildReport {
    const report = this.finish('failed', `stage "${stage}" failed: ${reason}`, null);
    report.failure = { stage, reason };
    return report;
  }

  /** Every container this build made (or is still making) is removed, whatever happened. */
  private async cleanup(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    const results = await Promise.allSettled([...this.containers].map((c) => c.remove()));
    for (const result of results) {
      if (result.status === 'rejected') this.logger?.warn({ err: result.reason }, 'could not remove a container');
    }
    for (const error of await Promise.all(this.removals)) {
      if (error) this.logger?.warn({ err: error }, 'could not remove a container');
    }
  }
}

function describeFlags(flags: readonly PolicyFlag[]): string {
  const shown = flags.slice(0, 3).map((f) => `${f.path} (${f.rule})`);
  return flags.length > 3 ? `${shown.join(', ')} and ${flags.length - 3} more` : shown.join(', ');
}

function skipped(name: string): StageReport {
  return { name, status: 'skipped', exitCode: null, durationMs: 0, commands: [] };
}

/** A container that cannot even start because of its image is the manifest's problem, not the host's. */
function imageProblem(err: Error): BuildError | null {
  if (/no such image|not found: manifest unknown/i.test(err.message))
    return new BuildError(err.message, { cause: err });
  return null;
}

function containerName(buildId: string, stage: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `kiln-${safe(buildId).slice(0, 40)}-${safe(stage)}-${randomBytes(3).toString('hex')}`;
}
