export * from './source-date-epoch.js';
export * from './signing-key.js';
export * from './attest.js';
export * from './dsse.js';
export * from './provenance.js';
export * from './sbom.js';
export * from './manifest-digest.js';
export * from './verify-artifact.js';
