import { ociPlatformOfArch, toError } from '@kiln/shared';
import type { ImageInfo } from '../container-runtime.js';
import { perArchRef } from '../image-ref.js';
import { LABEL } from '../labels.js';
import { formatBytes } from '../limits-text.js';
import { BuildError } from './build-error.js';
import type { SessionContext } from './session-context.js';

/**
 * The manifest's image for the build's arch. A compiler image Kiln cached for
 * some build is refused: builds start from ordinary images, never from
 * another build's prepared one.
 *
 * For image R and arch A: R as it is here when it is for A; else its local
 * variant `<repo>:<tag>-A` (how scripts/setup.sh names the arm64 base
 * images) when that is for A; else R pulled for platform linux/A (a registry
 * resolves a multi-arch manifest list to A's image). Docker's own
 * `--platform` is never trusted with local images: Docker 20.10 calls every
 * imported image amd64, so each image's arch is read (ImageInfo.arch).
 */
export async function resolveBaseImage(ctx: SessionContext): Promise<ImageInfo> {
  const ref = ctx.request.manifest.image;
  const base = await imageForArch(ctx, ref, ctx.arch);
  if (base.labels[LABEL.role] === 'prepare-cache') {
    throw new BuildError(`image ${ref} is a compiler image Kiln cached for a build; builds start from ordinary images`);
  }
  return base;
}

async function imageForArch(ctx: SessionContext, ref: string, arch: string): Promise<ImageInfo> {
  const images = ctx.deps.runtime.images;
  const local = await images.inspect(ref);
  if (local?.arch === arch) return local;
  const variantRef = perArchRef(ref, arch);
  const variant = variantRef ? await images.inspect(variantRef) : null;
  if (variant?.arch === arch) {
    ctx.log.system('', `using ${variantRef} for ${arch}\n`);
    return variant;
  }
  const pulled = await pullForArch(ctx, ref, arch, local, variantRef);
  if (pulled.arch !== arch) {
    throw new BuildError(
      `image ${ref} has no ${arch} variant: the registry's image is for ${pulled.arch}` +
        (variantRef ? `, and there is no local ${variantRef}` : ''),
    );
  }
  return pulled;
}

/**
 * Pulls R for A's platform. The pull moves the name R to what it fetched; so
 * that an image for one arch never takes the name another arch's builds use,
 * the result is named `<repo>:<tag>-A` and R is given back to what it named
 * before (or taken off, when it named nothing and A is not the host's arch).
 */
async function pullForArch(
  ctx: SessionContext,
  ref: string,
  arch: string,
  before: ImageInfo | null,
  variantRef: string | null,
): Promise<ImageInfo> {
  const images = ctx.deps.runtime.images;
  const platform = ociPlatformOfArch(arch);
  const what = ctx.emulated || before ? `${ref} for ${platform}` : ref;
  ctx.log.system('', `pulling ${what}\n`);
  let lastShown = 0;
  try {
    await images.pull(
      ref,
      (progress) => {
        const now = Date.now();
        if (now - lastShown < 1000) return;
        lastShown = now;
        const amount = progress.total ? ` ${formatBytes(progress.current ?? 0)} of ${formatBytes(progress.total)}` : '';
        ctx.log.system('', `pulling ${what}: ${progress.status}${amount}\n`);
      },
      ctx.request.signal,
      platform,
    );
  } catch (err) {
    const why = toError(err).message;
    const message =
      before || ctx.emulated
        ? `image ${ref} for ${arch}: ${before ? `here it is for ${before.arch}` : 'it is not on this host'}, and it could not be pulled: ${why}`
        : `image ${ref} is not on this host and could not be pulled: ${why}`;
    throw new BuildError(message, { cause: err });
  }
  const pulled = await images.inspect(ref);
  if (!pulled) throw new BuildError(`image ${ref} could not be found after pulling it`);
  if (variantRef && pulled.id !== before?.id && (before || ctx.emulated)) {
    await images.tag(pulled.id, variantRef);
    if (before) await images.tag(before.id, ref);
    else await images.untag(ref);
  }
  return pulled;
}
