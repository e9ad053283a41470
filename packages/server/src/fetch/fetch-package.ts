import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { InvalidInputError, KilnError, artifactFormatOf, artifactSuffix } from '@kiln/shared';
import type { IndexEntry, RepoIndex } from '../repo/package-index.js';
import { verifyDetached } from '../repo/signing-key.js';
import { safeExtract, type ExtractResult } from './safe-extract.js';
import { compareVersions } from './version-order.js';

/** The repository could not be trusted (bad signature, wrong hash): nothing was installed. */
export class UntrustedRepositoryError extends KilnError {}

export interface FetchRequest {
  /** The server's base URL; the repository is under `/repo/`. */
  server: string;
  name: string;
  version?: string;
  arch: string;
  to: string;
  /** The farm's armored public key; null: take the server's /repo/key.asc (trust on first use, with a warning). */
  trustedKey: string | null;
  allowSetuid?: boolean;
  fetch?: typeof fetch;
}

export interface FetchResult {
  entry: IndexEntry;
  fingerprint: string;
  extracted: ExtractResult;
  warnings: string[];
}

/**
 * `kiln fetch`: what a package manager does. The signed index first (its
 * signature checked against the trusted key), then the artifact, whose
 * sha256 must equal the index's, then a safe extraction. Anything that does
 * not hold stops before a byte is written to the target folder.
 */
export async function fetchPackage(request: FetchRequest): Promise<FetchResult> {
  const get = request.fetch ?? fetch;
  const base = new URL('repo/', request.server.endsWith('/') ? request.server : `${request.server}/`);
  const warnings: string[] = [];
  const [indexBytes, signature] = await Promise.all([
    download(get, new URL('index.json', base)),
    download(get, new URL('index.json.asc', base)).then((b) => b.toString('utf8')),
  ]);
  let key = request.trustedKey;
  if (key === null) {
    key = (await download(get, new URL('key.asc', base))).toString('utf8');
    warnings.push(`trusting the key the server sent (${base.href}key.asc); set KILN_REPO_KEY or --key to pin it`);
  }
  const verified = await verifyDetached(indexBytes, signature, key);
  if (!verified.ok) throw new UntrustedRepositoryError(`the index signature does not verify: ${verified.reason}`);
  const index = parseIndex(indexBytes);
  const entry = choose(index, request);
  if (!entry.url || !entry.sha256) {
    throw new KilnError(`${entry.name} ${entry.version} (${entry.arch}) has no artifact on this server`);
  }
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'kiln-fetch-'));
  try {
    // An index from before artifact formats has no `format`: its URL's ending says it.
    const format = entry.format ?? artifactFormatOf(entry.url) ?? 'tar.gz';
    const file = path.join(scratch, `artifact${artifactSuffix(format)}`);
    const response = await get(new URL(entry.url, base));
    if (!response.ok || !response.body) throw new KilnError(`${entry.url}: the server answered ${response.status}`);
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream),
      new Transform({
        transform(chunk: Buffer, _enc, next) {
          hash.update(chunk);
          size += chunk.length;
          next(null, chunk);
        },
      }),
      createWriteStream(file),
    );
    const sha256 = hash.digest('hex');
    if (sha256 !== entry.sha256) {
      throw new UntrustedRepositoryError(
        `the artifact's sha256 is ${sha256}, but the signed index says ${entry.sha256}: refusing it`,
      );
    }
    if (entry.size !== null && size !== entry.size) {
      throw new UntrustedRepositoryError(`the artifact has ${size} bytes, but the signed index says ${entry.size}`);
    }
    const extracted = await safeExtract(file, request.to, { allowSetuid: request.allowSetuid ?? false });
    if (extracted.strippedModes.length > 0) {
      warnings.push(
        `removed setuid/setgid bits from ${extracted.strippedModes.join(', ')} (pass --allow-setuid to keep them)`,
      );
    }
    return { entry, fingerprint: verified.fingerprint, extracted, warnings };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function download(get: typeof fetch, url: URL): Promise<Buffer> {
  let response: Response;
  try {
    response = await get(url);
  } catch (err) {
    throw new KilnError(
      `cannot reach ${url.origin} (${(err as Error).message}): is kiln server running? (KILN_SERVER_URL)`,
      {
        cause: err,
      },
    );
  }
  if (!response.ok) throw new KilnError(`${url.href}: the server answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

function parseIndex(bytes: Buffer): RepoIndex {
  try {
    const index = JSON.parse(bytes.toString('utf8')) as RepoIndex;
    if (index.format !== 'kiln-repo/1' || !Array.isArray(index.packages)) throw new Error('not a kiln-repo/1 index');
    return index;
  } catch (err) {
    throw new UntrustedRepositoryError(`the index is not readable: ${(err as Error).message}`, { cause: err });
  }
}

function choose(index: RepoIndex, request: FetchRequest): IndexEntry {
  const candidates = index.packages.filter((p) => p.name === request.name && p.arch === request.arch);
  if (candidates.length === 0) {
    throw new InvalidInputError(`the repository has no package ${request.name} for ${request.arch}`);
  }
  if (request.version !== undefined) {
    const exact = candidates.find((p) => p.version === request.version);
    if (!exact) {
      const known = candidates.map((p) => p.version).sort(compareVersions);
      throw new InvalidInputError(`${request.name} has no version ${request.version} (it has ${known.join(', ')})`);
    }
    return exact;
  }
  return candidates.sort((a, b) => compareVersions(b.version, a.version))[0]!;
}
