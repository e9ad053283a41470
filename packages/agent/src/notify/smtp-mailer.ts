import { ConfigError, redactRepo, toError, type Logger } from '@kiln/shared';
import { createTransport } from 'nodemailer';
import { parseMailbox, type Mailbox } from './mailbox.js';
import { MailDeliveryError, type MailMessage, type Mailer } from './mailer.js';

export interface SmtpMailerOptions {
  /** KILN_SMTP_URL: `smtp://[user:pass@]host:port` or `smtps://…`. */
  url: string;
  /** KILN_MAIL_FROM: `Name <address>` or `address`. */
  from: string;
  logger?: Logger;
  /** Upper bound for connecting, the greeting and each reply (default 30s). */
  timeoutMs?: number;
}

/** The Mailer that talks SMTP through nodemailer. */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const from = parseMailbox(options.from);
  if (!from.ok) throw new ConfigError(`KILN_MAIL_FROM ("${options.from.replace(/[\r\n]/g, ' ')}") ${from.reason}`);
  const timeout = options.timeoutMs ?? 30_000;
  const transport = createTransport({
    url: options.url,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    // Bounded so a hung server cannot outlast the sender's claim on a notification.
    socketTimeout: timeout,
    // Nothing in a message may make nodemailer read a local file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const server = redactRepo(options.url);
  return new SmtpMailer(transport, from.mailbox, server, options.logger);
}

class SmtpMailer implements Mailer {
  constructor(
    private readonly transport: ReturnType<typeof createTransport>,
    private readonly from: Mailbox,
    private readonly server: string,
    private readonly logger?: Logger,
  ) {}

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transport.sendMail({
        from: { name: this.from.name ?? '', address: this.from.address },
        to: { name: message.to.name ?? '', address: message.to.address },
        // The envelope is set, not derived from headers: only the validated
        // address is ever a recipient.
        envelope: { from: this.from.address, to: [message.to.address] },
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId:
          message.key === undefined
            ? undefined
            : `<${message.key.replace(/[^A-Za-z0-9.-]/g, '')}@${this.from.address.split('@')[1] ?? 'kiln'}>`,
        headers: { 'Auto-Submitted': 'auto-generated', ...message.headers },
      });
      this.logger?.debug({ to: message.to.address, server: this.server }, 'email sent');
    } catch (thrown) {
      const err = toError(thrown) as Error & { responseCode?: number; permanent?: boolean; response?: string };
      const permanent =
        err.permanent ?? (err.responseCode !== undefined && err.responseCode >= 500 && err.responseCode !== 503);
      throw new MailDeliveryError(`SMTP ${this.server}: ${err.message}`, permanent, { cause: err });
    }
  }

  close(): void {
    this.transport.close();
  }
}
