import type { Manifest, Queryable } from '@kiln/shared';
import type { AttemptRef } from './attempt.js';

export interface CheckoutFound {
  commit: string;
  branch: string | null;
  package: { name: string; version: string } | null;
  manifest: Manifest | null;
}

/** What the checkout found, as soon as it is known (`kiln status` shows it while building). */
export async function recordCheckout(db: Queryable, ref: AttemptRef, found: CheckoutFound): Promise<void> {
  await db.query(
    `UPDATE builds SET commit = $4, branch = COALESCE(branch, $5),
            package_name = COALESCE($6, package_name), package_version = COALESCE($7, package_version),
            manifest = COALESCE($8::jsonb, manifest)
      WHERE id = $1 AND attempt = $2 AND agent = $3 AND status = 'running'`,
    [
      ref.buildId,
      ref.attempt,
      ref.agent,
      found.commit,
      found.branch,
      found.package?.name ?? null,
      found.package?.version ?? null,
      found.manifest ? JSON.stringify(found.manifest) : null,
    ],
  );
}
