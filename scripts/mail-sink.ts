// A local SMTP sink for `scripts/up.sh`: accepts every message on 127.0.0.1
// and writes it to a folder as .eml files, so a person can read the failure
// emails without a mail server. (docker-compose uses Mailpit instead.)
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

const port = Number(process.env.KILN_MAIL_SINK_PORT ?? 1025);
const dir = process.env.KILN_MAIL_DIR ?? '/var/lib/kiln/mail';
await mkdir(dir, { recursive: true });

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((r) => r.address).join(',');
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${session.id}.eml`);
      writeFile(file, Buffer.concat(chunks)).then(
        () => {
          process.stdout.write(`${JSON.stringify({ msg: 'mail received', to, file })}\n`);
          callback();
        },
        (err: unknown) => callback(err as Error),
      );
    });
  },
});
server.listen(port, '127.0.0.1', () =>
  process.stdout.write(`${JSON.stringify({ msg: 'mail sink listening', port, dir })}\n`),
);
