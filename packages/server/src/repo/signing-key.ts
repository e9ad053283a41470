// The farm's key is the agent's too (it signs provenance): one implementation, in @kiln/shared (its own
// entry point, so that only the programs that sign or verify load OpenPGP).
export { generateSigningKey, loadSigner, verifyDetached, type Signer } from '@kiln/shared/signing-key';
