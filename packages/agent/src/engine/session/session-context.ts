import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { debianHostArch, PhaseClock, type Logger } from '@kiln/shared';
import { resolveEnvironment, type BuildEnvironment } from '../build-environment.js';
import type { BuildIsolation } from '../build-network.js';
import type { CacheOwner } from '../cache-mounts.js';
import type { ContainerRuntime } from '../container-runtime.js';
import type { Owner } from '../labels.js';
import { SecretMasker } from '../secret-masker.js';
import { WORKSPACE_PATH, type BuildRequest, type ResourceLimits } from '../types.js';
import { withVariation } from '../../trust/build-variation.js';
import type { Signer } from '@kiln/shared/signing-key';
import { withSourceDateEpoch } from '../../trust/source-date-epoch.js';
import type { ReportAssembly } from './report-assembly.js';
import { SessionLog } from './session-log.js';
import type { StageContainers } from './stage-containers.js';

/** What the engine gives every build: the operator's settings and the container runtime. */
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
  /** The Debian arch of the Docker host (default: this process's): any other arch is emulated. */
  hostArch?: string;
  logger?: Logger;
}

/** What every step of one build reads: the request, its environment and secrets, its log and clock. */
export interface SessionContext {
  readonly deps: SessionDeps;
  readonly request: BuildRequest;
  readonly startedAt: number;
  readonly clock: PhaseClock;
  /** The stage wrapper's marker: unguessable, so a script cannot fake the end of a command. */
  readonly token: string;
  readonly env: BuildEnvironment;
  readonly masker: SecretMasker;
  readonly log: SessionLog;
  /** Whose caches (compiler images, cache volumes) this build may use. */
  readonly cacheOwner: CacheOwner;
  /** Where the checkout is mounted: /workspace, or a reproducibility check's varied path. */
  readonly workspacePath: string;
  /** The Debian arch the build is for, and whether it is not the host's (its programs run under qemu). */
  readonly arch: string;
  readonly emulated: boolean;
  readonly logger?: Logger;
}

/** A build's context with the two things its steps change: its containers and its report. */
export interface Session extends SessionContext {
  readonly containers: StageContainers;
  readonly report: ReportAssembly;
}

export function createSessionContext(deps: SessionDeps, request: BuildRequest): SessionContext {
  const startedAt = Date.now();
  const env = withSourceDateEpoch(
    withVariation(resolveEnvironment(request.manifest, request.hostEnv, deps.allowInheritEnv), request.variation),
    request.sourceDateEpoch,
  );
  const masker = new SecretMasker(env.secrets);
  const workspace = path.resolve(request.workspace);
  const host = deps.hostArch ?? debianHostArch();
  const arch = request.arch ?? host;
  const emulated = arch !== host;
  const logger = deps.logger?.child({ buildId: request.buildId, ...(emulated ? { arch } : {}) });
  return {
    deps,
    request,
    startedAt,
    clock: request.clock ?? new PhaseClock(startedAt),
    token: `::kiln-${randomBytes(16).toString('hex')}::`,
    env,
    masker,
    log: new SessionLog(masker, deps.limits.logLimitBytes, request.events),
    workspacePath: request.variation?.workspacePath ?? WORKSPACE_PATH,
    arch,
    emulated,
    cacheOwner: {
      repo: request.repo ?? workspace,
      package: request.package?.name ?? request.manifest.package.name ?? path.basename(workspace),
      // The host's arch keeps the names caches had before builds had an arch.
      ...(emulated ? { arch } : {}),
    },
    ...(logger ? { logger } : {}),
  };
}
