import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as openpgp from 'openpgp';
import { repoIdentity, toError } from '@kiln/shared';
import { IN_TOTO_PAYLOAD_TYPE, openEnvelope, type DsseEnvelope } from './dsse.js';
import { IN_TOTO_STATEMENT, SLSA_PROVENANCE, type KilnProvenance } from './provenance.js';

export interface VerifyRequest {
  artifact: string;
  /** The provenance file's text: a DSSE envelope (JSON, or its first line in `.intoto.jsonl`). */
  provenance: string;
  /** The farm's armored public key. */
  trustedKey: string;
  /** Optionally: the repository and commit the artifact must come from. */
  repo?: string;
  commit?: string;
}

export type Verdict =
  | { ok: true; sha256: string; repository: string; commit: string | null; builder: string; signedBy: string }
  | { ok: false; reason: string };

/**
 * `kiln verify`: the provenance is signed by the trusted key, names the
 * artifact's sha256 as its subject, and (when asked) says the given
 * repository and commit. The first thing that does not hold is the reason.
 */
export async function verifyArtifact(request: VerifyRequest): Promise<Verdict> {
  let fingerprint: string;
  try {
    fingerprint = (await openpgp.readKey({ armoredKey: request.trustedKey })).getFingerprint().toUpperCase();
  } catch (err) {
    return { ok: false, reason: `the trusted key is not an armored OpenPGP public key (${toError(err).message})` };
  }
  const envelope = parseEnvelope(request.provenance);
  if (!envelope)
    return { ok: false, reason: 'the provenance is not a DSSE envelope (JSON with payloadType, payload, signatures)' };
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return { ok: false, reason: `the provenance's payload is ${envelope.payloadType}, not an in-toto statement` };
  }
  const opened = await openEnvelope(envelope, request.trustedKey, fingerprint);
  if (!opened.ok) return { ok: false, reason: `the provenance's signature does not hold: ${opened.reason}` };
  let statement: KilnProvenance;
  try {
    statement = JSON.parse(opened.payload.toString('utf8')) as KilnProvenance;
  } catch {
    return { ok: false, reason: 'the signed payload is not JSON' };
  }
  if (statement._type !== IN_TOTO_STATEMENT || statement.predicateType !== SLSA_PROVENANCE) {
    return { ok: false, reason: 'the signed payload is not a SLSA v1 provenance statement' };
  }
  let sha256: string;
  try {
    sha256 = await fileSha256(request.artifact);
  } catch (err) {
    return { ok: false, reason: `cannot read the artifact ${request.artifact}: ${toError(err).message}` };
  }
  const subjects = statement.subject ?? [];
  if (!subjects.some((s) => s.digest?.sha256 === sha256)) {
    const named = subjects.map((s) => `${s.name} sha256 ${s.digest?.sha256 ?? '?'}`).join(', ');
    return {
      ok: false,
      reason: `the artifact's sha256 is ${sha256}, but the provenance is about ${named}: the artifact was changed, or the provenance is another artifact's`,
    };
  }
  const params = statement.predicate.buildDefinition.externalParameters;
  if (request.commit !== undefined) {
    const want = request.commit.toLowerCase();
    const built = params.commit ?? '';
    if (want.length < 7 || !built.startsWith(want)) {
      return {
        ok: false,
        reason: `the artifact was built from commit ${built || '(none recorded)'}, not ${request.commit}`,
      };
    }
  }
  if (request.repo !== undefined && repoIdentity(request.repo) !== repoIdentity(params.repository)) {
    return { ok: false, reason: `the artifact was built from ${params.repository}, not ${request.repo}` };
  }
  return {
    ok: true,
    sha256,
    repository: params.repository,
    commit: params.commit,
    builder: statement.predicate.runDetails.builder.id,
    signedBy: fingerprint,
  };
}

function parseEnvelope(text: string): DsseEnvelope | null {
  const first = text.split('\n').find((line) => line.trim() !== '') ?? '';
  try {
    const value = JSON.parse(first) as Partial<DsseEnvelope>;
    if (typeof value.payloadType !== 'string' || typeof value.payload !== 'string') return null;
    if (!Array.isArray(value.signatures)) return null;
    return value as DsseEnvelope;
  } catch {
    return null;
  }
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where `kiln verify` looks for an artifact's provenance by default: beside it, as the agent writes it. */
export function provenanceFileOf(artifact: string): string {
  return `${artifact.replace(/\.tar\.(gz|zst)$/, '')}.intoto.jsonl`;
}
