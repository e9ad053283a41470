// The agent's rows of a build: claim, lease, live stage and command rows, the result in one transaction.
export { BuildStore } from './build-store.js';
export type { AttemptRef, BuildResult, JobWithId } from './attempt.js';
export { FINISHED_STATUSES, type ClaimResult } from './claim.js';
export type { CheckoutFound } from './checkout-row.js';
export { withoutNul } from './log-rows.js';
