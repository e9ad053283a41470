import type { Queryable } from './queryable.js';

/**
 * Who may build a package: the repositories that own its name. The first
 * repository to build a name owns it; operators grant, transfer and revoke
 * with `kiln owner`, or pin owners in configuration (KILN_PACKAGE_OWNERS),
 * which then overrides the database for that name.
 */
export type OwnerGrant = 'first-build' | 'history' | 'operator';

export interface PackageOwner {
  name: string;
  repo: string;
  grantedAt: Date;
  grantedBy: OwnerGrant | 'configuration';
}

export type OwnershipCheck = { ok: true; firstBuild: boolean } | { ok: false; owners: string[] };

/** Owners pinned by the operator in configuration: package name → repository identities. */
export type ConfiguredOwners = ReadonlyMap<string, readonly string[]>;

export async function packageOwners(
  db: Queryable,
  name: string,
  configured: ConfiguredOwners = new Map(),
): Promise<string[]> {
  const pinned = configured.get(name);
  if (pinned) return [...pinned];
  const { rows } = await db.query<{ repo: string }>(
    'SELECT repo FROM package_owners WHERE name = $1 ORDER BY granted_at, repo',
    [name],
  );
  return rows.map((r) => r.repo);
}

/** May `repo` build `name`? Reads only; `claimPackage` records a first build. */
export async function checkOwnership(
  db: Queryable,
  name: string,
  repo: string,
  configured?: ConfiguredOwners,
): Promise<OwnershipCheck> {
  const owners = await packageOwners(db, name, configured);
  if (owners.length === 0) return { ok: true, firstBuild: true };
  return owners.includes(repo) ? { ok: true, firstBuild: false } : { ok: false, owners };
}

/**
 * Inside the transaction that records a package: takes an unowned name for
 * `repo`, or checks that `repo` owns it. The advisory lock makes two first
 * builds of one name from two repositories take turns, so only one can win.
 */
export async function claimPackage(
  db: Queryable,
  name: string,
  repo: string,
  configured?: ConfiguredOwners,
): Promise<OwnershipCheck> {
  await db.query("SELECT pg_advisory_xact_lock(hashtext('kiln.package-owner'), hashtext($1))", [name]);
  const check = await checkOwnership(db, name, repo, configured);
  if (check.ok && check.firstBuild && !configured?.has(name)) {
    await db.query(
      `INSERT INTO package_owners (name, repo, granted_by) VALUES ($1, $2, 'first-build') ON CONFLICT DO NOTHING`,
      [name, repo],
    );
  }
  return check;
}

export async function listOwners(db: Queryable, name?: string): Promise<PackageOwner[]> {
  const { rows } = await db.query<{ name: string; repo: string; granted_at: Date; granted_by: OwnerGrant }>(
    `SELECT name, repo, granted_at, granted_by FROM package_owners
      WHERE $1::text IS NULL OR name = $1 ORDER BY name, granted_at, repo`,
    [name ?? null],
  );
  return rows.map((r) => ({ name: r.name, repo: r.repo, grantedAt: r.granted_at, grantedBy: r.granted_by }));
}

/** Adds `repo` as an owner of `name` (shared ownership). */
export async function grantOwner(db: Queryable, name: string, repo: string): Promise<void> {
  await db.query(
    `INSERT INTO package_owners (name, repo, granted_by) VALUES ($1, $2, 'operator')
     ON CONFLICT (name, repo) DO UPDATE SET granted_by = 'operator', granted_at = now()`,
    [name, repo],
  );
}

/** Removes `repo` from the owners of `name`; returns whether it was one. */
export async function revokeOwner(db: Queryable, name: string, repo: string): Promise<boolean> {
  const result = await db.query('DELETE FROM package_owners WHERE name = $1 AND repo = $2', [name, repo]);
  return (result.rowCount ?? 0) > 0;
}

/** Makes `repo` the only owner of `name`. Run inside a transaction. */
export async function transferOwner(db: Queryable, name: string, repo: string): Promise<void> {
  await db.query('DELETE FROM package_owners WHERE name = $1 AND repo <> $2', [name, repo]);
  await grantOwner(db, name, repo);
}
