export { fetchPackage, UntrustedRepositoryError, type FetchRequest, type FetchResult } from './fetch-package.js';
export { safeExtract, checkEntry, UnsafeArchiveError, type ExtractResult } from './safe-extract.js';
export { compareVersions } from './version-order.js';
