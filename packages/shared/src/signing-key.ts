import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { InvalidInputError, toError } from './errors.js';

/**
 * The farm's signing key: signs the repository index and each build's
 * provenance; its public half is served for package managers. The private
 * key stays in this object: never logged, stored or given to a build.
 */
export interface Signer {
  readonly fingerprint: string;
  readonly publicKey: string;
  signDetached(data: Uint8Array): Promise<string>;
  /** The same detached signature, unarmored (DSSE carries it base64-encoded). */
  signBinary(data: Uint8Array): Promise<Uint8Array>;
}

export async function loadSigner(file: string): Promise<Signer> {
  let armored: string;
  try {
    armored = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidInputError(
      `KILN_SIGNING_KEY: cannot read ${file} (${toError(err).message}); "kiln keys generate" makes one`,
      { cause: err },
    );
  }
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (err) {
    throw new InvalidInputError(`KILN_SIGNING_KEY: ${file} is not an armored OpenPGP private key`, { cause: err });
  }
  if (!key.isDecrypted()) {
    throw new InvalidInputError(
      `KILN_SIGNING_KEY: ${file} is protected by a passphrase; kiln needs an unprotected key`,
    );
  }
  const publicKey = key.toPublic().armor();
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    publicKey,
    async signDetached(data) {
      const message = await openpgp.createMessage({ binary: data });
      return openpgp.sign({ message, signingKeys: key, detached: true, format: 'armored' });
    },
    async signBinary(data) {
      const message = await openpgp.createMessage({ binary: data });
      return openpgp.sign({ message, signingKeys: key, detached: true, format: 'binary' });
    },
  };
}

/** Makes a new Ed25519 signing key and writes it (mode 0600); refuses to overwrite one unless told to. */
export async function generateSigningKey(
  file: string,
  options: { name: string; email: string; force?: boolean },
): Promise<{ fingerprint: string; publicKey: string }> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: options.name, email: options.email }],
    format: 'armored',
  });
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  try {
    await writeFile(file, privateKey, { mode: 0o600, flag: options.force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new InvalidInputError(`${file} exists already: keep it, or pass --force to replace it`, { cause: err });
    }
    throw err;
  }
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { fingerprint: key.getFingerprint().toUpperCase(), publicKey };
}

/** Checks a detached signature of `data` against a trusted public key; the reason when it does not hold. */
export async function verifyDetached(
  data: Uint8Array,
  armoredSignature: string | Uint8Array,
  armoredPublicKey: string,
): Promise<{ ok: true; fingerprint: string } | { ok: false; reason: string }> {
  let key: openpgp.Key;
  let signature: openpgp.Signature;
  try {
    key = await openpgp.readKey({ armoredKey: armoredPublicKey });
  } catch (err) {
    return { ok: false, reason: `the trusted key is not an armored OpenPGP public key (${toError(err).message})` };
  }
  try {
    signature =
      typeof armoredSignature === 'string'
        ? await openpgp.readSignature({ armoredSignature })
        : await openpgp.readSignature({ binarySignature: armoredSignature });
  } catch (err) {
    return { ok: false, reason: `the signature is not an OpenPGP signature (${toError(err).message})` };
  }
  try {
    const message = await openpgp.createMessage({ binary: data });
    const result = await openpgp.verify({ message, signature, verificationKeys: key, expectSigned: true });
    await result.signatures[0]?.verified;
    return { ok: true, fingerprint: key.getFingerprint().toUpperCase() };
  } catch (err) {
    return { ok: false, reason: toError(err).message };
  }
}
