import { InfrastructureError } from '@kiln/shared';
import type { Mailbox } from './mailbox.js';

/** One email as Kiln composes it; the sender address is the mailer's own. */
export interface MailMessage {
  /** Already validated: the only envelope recipient. */
  to: Mailbox;
  subject: string;
  text: string;
  html: string;
  /** Stable per notification (`failure.<build id>`): becomes the Message-ID, so a repeat is recognisable. */
  key?: string;
  /** Kiln's own informational headers (`X-Kiln-Build`); values must be one printable line. */
  headers?: Record<string, string>;
}

/** Whatever delivers email: SMTP in the agent, a recorder in unit tests. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close?(): void;
}

/**
 * Delivery did not happen. `permanent` means the server refused this message
 * for good (a 5xx reply): retrying the same email would be refused again.
 */
export class MailDeliveryError extends InfrastructureError {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
