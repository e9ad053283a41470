// The farm's key is the agent's too (it signs provenance): one implementation, in @kiln/agent.
export { generateSigningKey, loadSigner, verifyDetached, type Signer } from '@kiln/agent';
