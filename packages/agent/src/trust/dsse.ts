import type { Signer } from '@kiln/shared/signing-key';
import { verifyDetached } from '@kiln/shared/signing-key';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** A DSSE envelope (secure-systems-lab dsse v1): the payload and its signatures, both base64. */
export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** DSSE's pre-authentication encoding: what is signed, so the type cannot be swapped under the signature. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** Signs `payload` with the farm's OpenPGP key (a detached binary signature over the PAE). */
export async function signEnvelope(payloadType: string, payload: Buffer, signer: Signer): Promise<DsseEnvelope> {
  const sig = await signer.signBinary(preAuthEncoding(payloadType, payload));
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: signer.fingerprint, sig: Buffer.from(sig).toString('base64') }],
  };
}

/**
 * Checks the envelope against a trusted public key: some signature must be
 * that key's. Returns the payload when it holds, else why not.
 */
export async function openEnvelope(
  envelope: DsseEnvelope,
  armoredPublicKey: string,
  trustedFingerprint: string,
): Promise<{ ok: true; payload: Buffer } | { ok: false; reason: string }> {
  const payload = Buffer.from(envelope.payload, 'base64');
  if (envelope.signatures.length === 0) return { ok: false, reason: 'the provenance carries no signature' };
  const reasons: string[] = [];
  for (const { keyid, sig } of envelope.signatures) {
    const checked = await verifyDetached(
      preAuthEncoding(envelope.payloadType, payload),
      Buffer.from(sig, 'base64'),
      armoredPublicKey,
    );
    if (checked.ok) return { ok: true, payload };
    reasons.push(
      keyid.toUpperCase() !== trustedFingerprint
        ? `it is signed by key ${keyid}, not by the trusted key ${trustedFingerprint}`
        : `its signature by the trusted key ${trustedFingerprint} does not hold (${checked.reason})`,
    );
  }
  return { ok: false, reason: reasons.join('; ') };
}
