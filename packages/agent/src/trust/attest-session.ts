import type { InstallReport } from '@kiln/shared';
import type { ImageInfo } from '../engine/container-runtime.js';
import type { SessionContext } from '../engine/session/session-context.js';
import { attestBuild, type TrustDocument } from './attest.js';

/** The engine's step after a succeeded install: the SBOM and, with the farm's key, the signed provenance. */
export async function attestSession(
  session: SessionContext,
  base: ImageInfo,
  compiler: { ref: string; info: ImageInfo },
  install: InstallReport,
): Promise<TrustDocument[]> {
  const { request, deps, log } = session;
  if (!request.package) return [];
  const signer = await deps.signer?.();
  return attestBuild({
    runtime: deps.runtime,
    owner: deps.owner,
    limits: deps.limits,
    buildId: request.buildId,
    package: request.package,
    install,
    images: {
      base: { ref: request.manifest.image, id: base.id },
      compiler: { ref: compiler.ref, id: compiler.info.id },
    },
    startedOn: new Date(session.startedAt),
    finishedOn: new Date(),
    // What the provenance says when the image's dpkg cannot tell: the arch the build was for.
    hostArch: session.arch,
    note: (text) => log.system('install', text),
    ...(request.sourceDateEpoch !== undefined ? { sourceDateEpoch: request.sourceDateEpoch } : {}),
    ...(request.provenance ? { provenance: request.provenance } : {}),
    ...(signer ? { signer } : {}),
  });
}
