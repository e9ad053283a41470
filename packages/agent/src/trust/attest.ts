import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Attestation, InstallReport } from '@kiln/shared';
import type { ContainerRuntime } from '../engine/container-runtime.js';
import type { Owner } from '../engine/labels.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.js';
import { imageFacts } from './image-packages.js';
import { KILN_VERSION } from './kiln-version.js';
import { makeProvenance } from './provenance.js';
import { makeSbom, SBOM_MEDIA_TYPE } from './sbom.js';
import type { Signer } from '@kiln/shared/signing-key';

/** A document about a build, as recorded (the body) and written next to the artifact (the path). */
export interface TrustDocument extends Attestation {
  body: string;
}

/** What the caller knows about where a build came from, for its provenance. */
export interface ProvenanceRequest {
  /** The repository as recorded (no credentials). */
  repository: string;
  commit: string | null;
  branch: string | null;
  /** The manifest file as read from the commit. */
  manifest?: { file: string; sha256: string };
  /** Who built it: `kiln-agent:<agent id>`, `kiln-run:<host>`. */
  builder: string;
}

export interface AttestInput {
  runtime: ContainerRuntime;
  owner: Owner;
  limits: { memoryBytes: number; cpus: number; pids: number };
  buildId: string;
  package: { name: string; version: string };
  install: InstallReport;
  images: { base: { ref: string; id: string }; compiler: { ref: string; id: string } };
  sourceDateEpoch?: number;
  provenance?: ProvenanceRequest;
  /** The farm's key (KILN_SIGNING_KEY); without one no provenance is made (the log says so). */
  signer?: Signer;
  startedOn: Date;
  finishedOn: Date;
  hostArch: string;
  note(text: string): void;
}

/**
 * A succeeded build's SBOM (always) and signed provenance (with a key and an
 * artifact), written next to the artifact as `<artifact>.cdx.json` and
 * `<artifact>.intoto.jsonl`, and returned to be recorded.
 */
export async function attestBuild(input: AttestInput): Promise<TrustDocument[]> {
  const { install } = input;
  const needed = install.files.flatMap((f) => f.needed ?? []);
  const facts = await imageFacts(
    {
      runtime: input.runtime,
      owner: input.owner,
      buildId: input.buildId,
      image: input.images.compiler.id,
      ...input.limits,
    },
    needed,
  ).catch((err: unknown) => {
    input.note(`could not list the compiler image's packages (${(err as Error).message}): the SBOM lists none\n`);
    return { arch: null, packages: [], providers: new Map<string, string>() };
  });
  const arch = facts.arch ?? input.hostArch;
  const artifact = install.artifact;
  const stem = artifact ? artifact.path.replace(/\.tar\.(gz|zst)$/, '') : null;
  const documents: TrustDocument[] = [];

  const sbom = makeSbom({
    package: input.package,
    files: install.files,
    compiler: { ...input.images.compiler, facts },
    ...(input.sourceDateEpoch !== undefined ? { sourceDateEpoch: input.sourceDateEpoch } : {}),
    kilnVersion: KILN_VERSION,
  });
  documents.push(await keep('sbom', SBOM_MEDIA_TYPE, sbom, stem && `${stem}.cdx.json`));
  input.note(`SBOM: ${install.files.length} files, ${facts.packages.length} build-time packages\n`);

  const request = input.provenance;
  const signer = input.signer;
  if (artifact && request && signer) {
    const statement = makeProvenance({
      artifact: { name: path.basename(artifact.path), sha256: artifact.sha256 },
      source: { repository: request.repository, commit: request.commit, branch: request.branch },
      ...(request.manifest ? { manifest: request.manifest } : {}),
      images: [
        { role: 'base', ...input.images.base },
        { role: 'compiler', ...input.images.compiler },
      ],
      arch,
      ...(input.sourceDateEpoch !== undefined ? { sourceDateEpoch: input.sourceDateEpoch } : {}),
      builder: { id: request.builder, version: KILN_VERSION },
      buildId: input.buildId,
      startedOn: input.startedOn,
      finishedOn: input.finishedOn,
    });
    const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), signer);
    const provenance = await keep(
      'provenance',
      'application/vnd.dsse.envelope.v1+json',
      `${JSON.stringify(envelope)}\n`,
      `${stem}.intoto.jsonl`,
    );
    documents.push({ ...provenance, signedBy: signer.fingerprint });
    input.note(`provenance signed by ${signer.fingerprint}\n`);
  } else if (artifact && !signer) {
    input.note('no signing key (KILN_SIGNING_KEY): no provenance for this artifact\n');
  }
  return documents;
}

async function keep(
  kind: TrustDocument['kind'],
  mediaType: string,
  body: string,
  file: string | null,
): Promise<TrustDocument> {
  if (file) await writeFile(file, body, { mode: 0o644 });
  return { kind, mediaType, path: file, sha256: createHash('sha256').update(body).digest('hex'), body };
}
