import { createHash } from 'node:crypto';

// Kiln's own namespace for name-based build ids (a random UUID, fixed forever).
const KILN_NAMESPACE = '6f1c2b8e-3d4a-4f0e-9b7c-2a5d8e1f4c3b';

/**
 * A UUID (version 5) derived from `name`: the same message id always gives
 * the same build id, so a redelivered hand-dropped job is recognised.
 */
export function uuidFromName(name: string, namespace = KILN_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
