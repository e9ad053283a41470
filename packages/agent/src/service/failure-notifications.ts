import type { Queryable } from '@kiln/shared';

/**
 * Where a failed or errored build asks for its email: called INSIDE the
 * result's transaction, so the email is queued exactly when the result is
 * recorded (a background sender delivers it).
 */
export interface FailureNotifications {
  queue(db: Queryable, failure: { buildId: string; maintainer?: string; commitAuthor?: string }): Promise<void>;
}
