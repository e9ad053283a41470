import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { artifactSuffix, type ArtifactFormat, type Logger, type Queryable } from '@kiln/shared';
import { linkage } from '../db/package-queries.js';
import type { Signer } from './signing-key.js';

/** One package version in `/repo/index.json`: what a package manager needs to choose, fetch and check it. */
export interface IndexEntry {
  name: string;
  version: string;
  arch: string;
  buildId: string;
  installedSize: number;
  /** The artifact: relative to the index's own URL, with its format, size and sha256. */
  url: string | null;
  format: ArtifactFormat | null;
  size: number | null;
  sha256: string | null;
  provides: string[];
  needs: string[];
  files: Array<{ path: string; size: number; mode: string; kind: string; sha256?: string; target?: string }>;
}

export interface RepoIndex {
  format: 'kiln-repo/1';
  arch: string[];
  /** When a package last changed (not when this was generated: equal data gives equal bytes on every server). */
  updatedAt: string | null;
  packages: IndexEntry[];
}

export interface IndexSnapshot {
  bytes: Buffer;
  etag: string;
  /** Detached armored signature of `bytes`; null without a signing key. */
  signature: string | null;
}

/**
 * The repository index, generated from `packages` and its files and kept
 * until a package changes. The bytes are deterministic, so servers behind one
 * load balancer serve the same index, and any one's signature verifies it.
 */
export class PackageIndex {
  private cached: { key: string; snapshot: Promise<IndexSnapshot> } | null = null;

  constructor(
    private readonly options: {
      db: Queryable;
      arch: string;
      artifactPath: (stored: string) => string | null;
      signer: Signer | null;
      logger: Logger;
    },
  ) {}

  async current(): Promise<IndexSnapshot> {
    const { rows } = await this.options.db.query<{ key: string }>(
      `SELECT count(*)::text || '/' || COALESCE(max(updated_at)::text, '') AS key FROM packages`,
    );
    const key = rows[0]?.key ?? '';
    if (this.cached?.key !== key) {
      const snapshot = this.generate();
      this.cached = { key, snapshot };
      snapshot.catch(() => {
        if (this.cached?.snapshot === snapshot) this.cached = null;
      });
    }
    return this.cached.snapshot;
  }

  private async generate(): Promise<IndexSnapshot> {
    const started = Date.now();
    const index = await this.read();
    const bytes = Buffer.from(`${JSON.stringify(index)}\n`);
    const etag = `"${createHash('sha256').update(bytes).digest('hex')}"`;
    const signature = this.options.signer ? await this.options.signer.signDetached(bytes) : null;
    this.options.logger.info(
      { packages: index.packages.length, bytes: bytes.length, ms: Date.now() - started },
      'generated the repository index',
    );
    return { bytes, etag, signature };
  }

  private async read(): Promise<RepoIndex> {
    const { db, arch } = this.options;
    const packages = await db.query<{
      name: string;
      version: string;
      arch: string;
      build_id: string;
      installed_size: number;
      payload_sha256: string | null;
      artifact: string | null;
      artifact_format: ArtifactFormat | null;
      updated_at: Date;
    }>(
      `SELECT name, version, arch, build_id::text AS build_id, installed_size::float8 AS installed_size, payload_sha256,
              artifact, artifact_format, updated_at
         FROM packages ORDER BY name, version, arch`,
    );
    const files = await db.query<{
      build_id: string;
      path: string;
      size: number;
      mode: string;
      kind: string;
      sha256: string | null;
      target: string | null;
      soname: string | null;
      needed: string[] | null;
    }>(
      `SELECT f.build_id::text AS build_id, f.path, f.size::float8 AS size, f.mode, f.kind, f.sha256, f.target,
              f.soname, f.needed
         FROM package_files f JOIN packages p ON p.build_id = f.build_id
        ORDER BY f.build_id, f.path`,
    );
    const byBuild = new Map<string, typeof files.rows>();
    for (const file of files.rows) {
      let list = byBuild.get(file.build_id);
      if (!list) byBuild.set(file.build_id, (list = []));
      list.push(file);
    }
    let updatedAt: Date | null = null;
    const entries: IndexEntry[] = [];
    for (const row of packages.rows) {
      if (!updatedAt || row.updated_at > updatedAt) updatedAt = row.updated_at;
      const list = byBuild.get(row.build_id) ?? [];
      const local = row.artifact ? this.options.artifactPath(row.artifact) : null;
      const format = row.artifact_format ?? 'tar.gz';
      const size = local
        ? await stat(local).then(
            (s) => s.size,
            () => null,
          )
        : null;
      entries.push({
        name: row.name,
        version: row.version,
        arch: row.arch,
        buildId: row.build_id,
        installedSize: row.installed_size,
        url:
          size === null
            ? null
            : `artifacts/${encodeURIComponent(`${row.name}-${row.version}-${row.arch}${artifactSuffix(format)}`)}`,
        format: size === null ? null : format,
        size,
        sha256: row.payload_sha256,
        ...linkage(list),
        files: list.map((f) => ({
          path: f.path,
          size: f.size,
          mode: f.mode,
          kind: f.kind,
          ...(f.sha256 ? { sha256: f.sha256 } : {}),
          ...(f.target ? { target: f.target } : {}),
        })),
      });
    }
    const arches = [...new Set([arch, ...entries.map((e) => e.arch)])].sort();
    return { format: 'kiln-repo/1', arch: arches, updatedAt: updatedAt?.toISOString() ?? null, packages: entries };
  }
}
