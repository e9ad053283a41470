import { toError } from '@kiln/shared';
import type { ImageInfo } from '../container-runtime.js';
import { LABEL } from '../labels.js';
import { formatBytes } from '../limits-text.js';
import { BuildError } from './build-error.js';
import type { SessionContext } from './session-context.js';

/**
 * The manifest's image, pulled when this host does not have it. A compiler
 * image Kiln cached for some build is refused: builds start from ordinary
 * images, never from another build's prepared one.
 */
export async function resolveBaseImage(ctx: SessionContext): Promise<ImageInfo> {
  const ref = ctx.request.manifest.image;
  const base = await ensureImage(ctx, ref);
  if (base.labels[LABEL.role] === 'prepare-cache') {
    throw new BuildError(`image ${ref} is a compiler image Kiln cached for a build; builds start from ordinary images`);
  }
  return base;
}

async function ensureImage(ctx: SessionContext, ref: string): Promise<ImageInfo> {
  const images = ctx.deps.runtime.images;
  const local = await images.inspect(ref);
  if (local) return local;
  ctx.log.system('', `pulling ${ref}\n`);
  let lastShown = 0;
  try {
    await images.pull(
      ref,
      (progress) => {
        const now = Date.now();
        if (now - lastShown < 1000) return;
        lastShown = now;
        const amount = progress.total ? ` ${formatBytes(progress.current ?? 0)} of ${formatBytes(progress.total)}` : '';
        ctx.log.system('', `pulling ${ref}: ${progress.status}${amount}\n`);
      },
      ctx.request.signal,
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
