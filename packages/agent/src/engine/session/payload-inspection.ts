import path from 'node:path';
import type { InstallReport, PolicyFlag } from '@kiln/shared';
import type { Mount } from '../container-runtime.js';
import { checkContent } from '../content-policy.js';
import { formatBytes } from '../limits-text.js';
import { artifactTarget, progressLines, streamPayload } from '../payload/index.js';
import { sensitiveDigests } from '../sensitive-files.js';
import type { PreparedStage } from '../stage-container.js';
import { DESTDIR_PATH, WORKSPACE_PATH } from '../types.js';
import type { SessionContext } from './session-context.js';

const KILN_DIR = path.posix.dirname(DESTDIR_PATH);

export interface InspectedPayload {
  install: InstallReport;
  /** What the content policy found. */
  flags: PolicyFlag[];
}

/**
 * The install stage's payload in one streaming pass: read, hashed, classified
 * and packed into the artifact, with progress; then the content policy.
 * Over KILN_PAYLOAD_LIMIT: PayloadTooLargeError, before any content is read.
 */
export async function inspectPayload(
  ctx: SessionContext,
  install: PreparedStage,
  mounts: Mount[],
): Promise<InspectedPayload> {
  const { request, log } = ctx;
  const { artifactDir, events, signal } = request;
  const note = (text: string) => log.system('install', text);
  const artifact = artifactDir ? await artifactTarget(request, artifactDir, note) : undefined;
  const lines = progressLines(note);
  // One pass reads, hashes, classifies and packs: inspection and artifact are one phase.
  const endInspection = ctx.clock.start('inspection');
  try {
    const payload = await streamPayload(install.container, {
      destdir: DESTDIR_PATH,
      kilnDir: KILN_DIR,
      workspace: WORKSPACE_PATH,
      mountTargets: mounts.map((m) => m.target),
      limitBytes: ctx.deps.limits.payloadLimitBytes,
      ...(artifact ? { artifact } : {}),
      ...(signal ? { signal } : {}),
      onProgress: (progress) => {
        lines(progress);
        events?.payload?.(progress);
      },
    });
    const { files, sizeBytes } = payload;
    log.system('install', `installed ${files.length} files, ${formatBytes(sizeBytes)}\n`);
    const flags = checkContent({
      files,
      special: payload.special,
      sensitive: await sensitiveDigests(install.container),
    });
    for (const flag of flags) log.system('install', `content policy: ${flag.path} ${flag.message}\n`);
    return { install: { sizeBytes, files, ...(payload.artifact ? { artifact: payload.artifact } : {}) }, flags };
  } finally {
    endInspection();
  }
}

/** `fail` when the operator or the manifest says flagged content fails the build. */
export function contentPolicy(ctx: SessionContext): 'warn' | 'fail' {
  return ctx.deps.limits.contentPolicy === 'fail' ? 'fail' : (ctx.request.manifest.policy?.content ?? 'warn');
}

export function describeFlags(flags: readonly PolicyFlag[]): string {
  const shown = flags.slice(0, 3).map((f) => `${f.path} (${f.rule})`);
  return flags.length > 3 ? `${shown.join(', ')} and ${flags.length - 3} more` : shown.join(', ');
}
