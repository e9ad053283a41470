import type { Queryable } from '@kiln/shared';

/**
 * Where a failed or errored build asks for its email: called INSIDE the
 * result's transaction, so the email is queued exactly when the result is
 * recorded (a background sender delivers it).
 */
export interface FailureNotifications {
  queue(db: Queryable, failure: NotificationInput): Promise<void>;
  /** A succeeded build's email, for repositories that opted in; same transaction. */
  queueSuccess?(db: Queryable, success: NotificationInput): Promise<void>;
}

export interface NotificationInput {
  buildId: string;
  /** The manifest's package.maintainer, as written. */
  maintainer?: string;
  /** The built commit's author, as git records it. */
  commitAuthor?: { name: string; email: string };
}
