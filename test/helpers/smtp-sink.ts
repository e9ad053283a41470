import net from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server for tests (smtp-server on 127.0.0.1): it keeps every
 * message it accepts, and can be stopped and started again on the same port,
 * so a test can take "the mail server" down and bring it back.
 */
export interface ReceivedMail {
  /** The envelope: who the server was actually asked to deliver to. */
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  /** Header name (lower case) → unfolded, decoded values in order. */
  headers: Map<string, string[]>;
  header(name: string): string | undefined;
  subject: string;
  /** The decoded text/plain and text/html parts ('' when absent). */
  text: string;
  html: string;
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: ReceivedMail[];
  listening(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once at least `count` messages arrived (rejects after `timeoutMs`). */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface SmtpSinkOptions {
  /** A fixed port; a free one is picked when absent. */
  port?: number;
  /** Listen at once (default true). */
  start?: boolean;
  /** Listen here instead of 127.0.0.1 (a test network's service address). */
  host?: string;
  /** Answer RCPT TO for these addresses with a permanent 550. */
  rejectRecipients?: string[];
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function createSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const port = options.port ?? (await freePort());
  const host = options.host ?? '127.0.0.1';
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const rejected = new Set((options.rejectRecipients ?? []).map((a) => a.toLowerCase()));
  let server: SMTPServer | undefined;

  const sink: SmtpSink = {
    port,
    url: `smtp://${host}:${port}`,
    messages,
    listening: () => server !== undefined,
    async start() {
      if (server) return;
      // A fresh server each time: smtp-server is not meant to listen again after close().
      const s = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        closeTimeout: 1_000,
        onRcptTo(address, _session, callback) {
          if (rejected.has(address.address.toLowerCase())) {
            const err = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
            callback(err);
            return;
          }
          callback();
        },
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const envelopeFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
            messages.push(
              parseMail(
                Buffer.concat(chunks).toString('utf8'),
                envelopeFrom,
                session.envelope.rcptTo.map((r) => r.address),
              ),
            );
            for (const wake of waiters) wake();
            callback();
          });
        },
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      s.on('error', () => {});
      server = s;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    waitForMessages(count, timeoutMs = 20_000) {
      if (messages.length >= count) return Promise.resolve(messages);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} message(s) on port ${port}, got ${messages.length} in ${timeoutMs}ms`));
        }, timeoutMs);
        function check() {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages);
        }
        waiters.add(check);
      });
    },
    async [Symbol.asyncDispose]() {
      await sink.stop();
    },
  };
  if (options.start !== false) await sink.start();
  return sink;
}

/** Just enough MIME for Kiln's own emails: headers, multipart/alternative, quoted-printable, base64, encoded words. */
export function parseMail(raw: string, envelopeFrom = '', envelopeTo: string[] = []): ReceivedMail {
  const { headers, body } = splitEntity(raw);
  const parts: { type: string; content: string }[] = [];
  collectParts(headers, body, parts);
  return {
    envelopeFrom,
    envelopeTo,
    raw,
    headers,
    header: (name) => headers.get(name.toLowerCase())?.[0],
    subject: headers.get('subject')?.[0] ?? '',
    text: parts.find((p) => p.type === 'text/plain')?.content ?? '',
    html: parts.find((p) => p.type === 'text/html')?.content ?? '',
  };
}

function splitEntity(entity: string): { headers: Map<string, string[]>; body: string } {
  const normalized = entity.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? '' : normalized.slice(end + 2);
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), decodeWords(line.slice(colon + 1).trim())]);
  }
  return { headers, body };
}

function collectParts(headers: Map<string, string[]>, body: string, out: { type: string; content: string }[]): void {
  const contentType = headers.get('content-type')?.[0] ?? 'text/plain';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return;
    const sections = body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      const part = splitEntity(section.replace(/^\n/, ''));
      collectParts(part.headers, part.body, out);
    }
    return;
  }
  const encoding = headers.get('content-transfer-encoding')?.[0]?.toLowerCase() ?? '7bit';
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(body)
        : Buffer.from(body, 'utf8');
  out.push({ type, content: bytes.toString('utf8').replace(/\n$/, '') });
}

function decodeQuotedPrintable(text: string): Buffer {
  const joined = text.replace(/=\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, mode: string, data: string) =>
      mode.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')).toString('utf8'),
    );
}
