import type { FailureNotifications } from './failure-notifications.js';

/** Until failure emails are wired in: the call site exists, nothing is queued. */
export const noFailureNotifications: FailureNotifications = {
  async queue() {},
};
