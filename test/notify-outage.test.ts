/**
 * The issue's own words, with the agent's real retry schedule: a build fails
 * while the mail server is down; the server is started a minute later; the
 * email arrives, and `notifications` says when. (test/notify.test.ts covers
 * the same path with a shortened backoff and an agent restart.)
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  builds,
  FAILING_MANIFEST,
  publishJob,
  releaseRepo,
  startTestAgent,
  waitUntil,
} from './helpers/agent-fixtures.js';
import { createSmtpSink, createTestDatabase, createTestVhost, freePort, waitFor } from './helpers/index.js';

jest.setTimeout(240_000);

test('with the SMTP server down when the build fails and started a minute later, the email arrives', async () => {
  await using db = await createTestDatabase('kiln_notify_outage');
  await using vhost = await createTestVhost('kiln-notify-outage');
  const port = await freePort();
  await using smtp = await createSmtpSink({ port, start: false });
  const { repo, branch } = await releaseRepo(
    'outage',
    '1.0',
    `package:\n  maintainer: ops@example.org\n${FAILING_MANIFEST}`,
  );
  try {
    await using _agent = await startTestAgent({ db, amqpUrl: vhost.url, agentId: 'outage-agent', smtpUrl: smtp.url });
    const id = randomUUID();
    await publishJob(vhost.url, { id, repo: repo.bare, branch, trigger: 'cli' });
    const failed = await waitUntil(
      async () => (await builds(db.pool, "id = $1 AND status = 'failed'", [id]))[0],
      'the build to fail',
      60_000,
    );
    expect(failed).toMatchObject({ status: 'failed', attempt: 1 });

    // The agent tried at once and failed; the job was acked all the same.
    const tried = await waitUntil(async () => {
      const { rows } = await db.pool.query(
        'SELECT status, attempts, last_error FROM notifications WHERE build_id = $1',
        [id],
      );
      return rows[0]?.attempts >= 1 ? rows[0] : undefined;
    }, 'a failed delivery attempt');
    expect(tried).toMatchObject({ status: 'pending', last_error: expect.stringMatching(/ECONNREFUSED|connect/i) });

    // "Started a minute later": a minute after the email was queued, on the database's clock
    // (the one sent_at is written by), with the agent retrying on its real schedule meanwhile.
    await waitFor(
      async () => {
        const { rows } = await db.pool.query(
          `SELECT 1 FROM notifications WHERE build_id = $1 AND clock_timestamp() - created_at >= interval '60 seconds'`,
          [id],
        );
        return rows.length === 1;
      },
      'a minute to pass since the email was queued',
      120_000,
      1_000,
    );
    const { rows: clock } = await db.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');
    const startedAt = clock[0]!.now;
    await smtp.start();
    const [mail] = await smtp.waitForMessages(1, 120_000);
    expect(mail?.envelopeTo).toEqual(['ops@example.org']);
    expect(mail?.subject).toBe('[kiln] outage-1.0 failed in build: exit 3 exited 3');
    // The agent records the delivery once the SMTP server has accepted the message: a moment after the
    // sink has it.
    const rows = await waitUntil(async () => {
      const { rows: found } = await db.pool.query(
        'SELECT status, attempts, sent_at FROM notifications WHERE build_id = $1',
        [id],
      );
      return found[0]?.status === 'pending' ? undefined : found;
    }, 'the delivery to be recorded');
    expect(rows).toEqual([{ status: 'sent', attempts: expect.any(Number), sent_at: expect.any(Date) }]);
    expect(rows[0].attempts).toBeGreaterThan(2);
    expect((rows[0].sent_at as Date).getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
    expect(smtp.messages).toHaveLength(1);
  } finally {
    await repo[Symbol.asyncDispose]();
  }
});
