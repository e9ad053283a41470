/** An image reference split as Docker reads it: `[registry/]repository[:tag][@digest]`. */
export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const named = at === -1 ? ref : ref.slice(0, at);
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  // A colon after the last slash starts the tag; one before it is a registry's port.
  const colon = named.lastIndexOf(':');
  const tagged = colon > named.lastIndexOf('/');
  return {
    repository: tagged ? named.slice(0, colon) : named,
    ...(tagged ? { tag: named.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

/**
 * The local name of an image's variant for one arch: `debian:bookworm` →
 * `debian:bookworm-arm64`, `kiln/bookworm-build` → `kiln/bookworm-build:latest-arm64`.
 * None for a reference by digest, which names one exact image (or manifest list).
 */
export function perArchRef(ref: string, arch: string): string | null {
  const parsed = parseImageRef(ref);
  if (parsed.digest) return null;
  return `${parsed.repository}:${parsed.tag ?? 'latest'}-${arch}`;
}
