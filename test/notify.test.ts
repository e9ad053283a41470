import { randomUUID } from 'node:crypto';
import { createLogger, createPool, withTransaction, type Queryable } from '@kiln/shared';
import {
  queueSuccessNotification,
  NotificationSender,
  createSmtpMailer,
  queueFailureNotification,
  type FailureNotificationInput,
  type Mailer,
} from '@kiln/agent';
import {
  createSmtpSink,
  createTestDatabase,
  freePort,
  waitFor,
  type SmtpSink,
  type TestDatabase,
} from './helpers/index.js';

const logger = createLogger({ level: 'silent', pretty: false });
const FROM = 'Kiln Builds <kiln@builds.example.org>';

interface BuildSpec {
  packageName?: string;
  version?: string;
  status?: 'failed' | 'errored';
  error?: string;
  failedStage?: string | null;
  failedCommand?: string | null;
  exitCode?: number | null;
  attempt?: number;
  /** Log lines per attempt (attempt number → lines). */
  logs?: Record<number, string[]>;
  secretVar?: { name: string; value: string };
}

/** Writes a finished build the way the agent does: builds, build_stages, build_commands, build_logs. */
async function insertFailedBuild(db: Queryable, spec: BuildSpec = {}): Promise<string> {
  const id = randomUUID();
  const name = spec.packageName ?? 'zlib';
  const version = spec.version ?? '1.3.1';
  const attempt = spec.attempt ?? 1;
  const status = spec.status ?? 'failed';
  const manifest = {
    file: '.kiln.yml',
    image: 'kiln/bookworm-build:latest',
    package: { maintainer: 'Jane Doe <jane@example.org>' },
    environment: { inherit: false, vars: spec.secretVar ? [spec.secretVar] : [] },
    stages: [{ name: 'build', script: ['./configure', 'make -j2'] }],
    cache: [],
  };
  await db.query(
    `INSERT INTO builds (id, repo, branch, commit, package_name, package_version, trigger, status, attempt, agent,
                         started_at, finished_at, duration_ms, error, failed_stage, failed_command, exit_code, manifest, report)
     VALUES ($1, $2, $3, $4, $5, $6, 'poll', $7, $8, 'agent-1', now() - interval '41 seconds', now(), 41234, $9, $10, $11, $12, $13, $14)`,
    [
      id,
      'https://kiln-bot:gh0-s3cret@git.example.org/libs/zlib.git',
      `${name}-${version}`,
      '0123456789abcdef0123456789abcdef01234567',
      name,
      version,
      status,
      attempt,
      spec.error ?? 'build: make -j2 exited 2',
      spec.failedStage === undefined ? 'build' : spec.failedStage,
      spec.failedCommand === undefined ? 'make -j2' : spec.failedCommand,
      spec.exitCode === undefined ? 2 : spec.exitCode,
      status === 'errored' && spec.failedStage === null ? null : JSON.stringify(manifest),
      JSON.stringify({
        status,
        package: { name, version },
        durationMs: 41234,
        stages: [],
        install: null,
        error: spec.error ?? 'build: make -j2 exited 2',
      }),
    ],
  );
  if (spec.failedStage !== null) {
    await db.query(
      `INSERT INTO build_stages (build_id, attempt, position, name, image, status, exit_code, started_at, duration_ms, error) VALUES
         ($1, $2, 0, 'prepare', 'kiln/bookworm-build:latest', 'succeeded', 0, now(), 12000, NULL),
         ($1, $2, 1, 'build', 'kiln/bookworm-build:latest', 'failed', 2, now(), 29000, 'exited 2'),
         ($1, $2, 2, 'test', NULL, 'skipped', NULL, NULL, NULL, NULL)`,
      [id, attempt],
    );
    await db.query(
      `INSERT INTO build_commands (build_id, attempt, stage_position, position, command, exit_code, started_at, duration_ms) VALUES
         ($1, $2, 0, 0, 'apt-get install -y zlib1g-dev', 0, now(), 11000),
         ($1, $2, 1, 0, './configure', 0, now(), 3000),
         ($1, $2, 1, 1, 'make -j2', 2, now(), 26000)`,
      [id, attempt],
    );
  }
  const logs = spec.logs ?? { [attempt]: defaultLog() };
  for (const [logAttempt, lines] of Object.entries(logs)) {
    // Chunks as a stream delivers them: several lines, split mid-line now and then.
    const text = lines.join('\n') + '\n';
    const chunks = text.match(/[\s\S]{1,97}/g) ?? [];
    let seq = 0;
    for (const chunk of chunks) {
      await db.query(
        `INSERT INTO build_logs (build_id, attempt, seq, stage, stream, chunk) VALUES ($1, $2, $3, 'build', 'stdout', $4)`,
        [id, Number(logAttempt), seq++, chunk],
      );
    }
  }
  return id;
}

function defaultLog(): string[] {
  return [
    ...Array.from({ length: 120 }, (_, i) => `gcc -O2 -c file${i}.c`),
    'adler32.c:12:3: error: unknown type name <uLong> & more',
    'make: *** [Makefile:3: all] Error 2',
  ];
}

/** What the agent does at the end of a build: result and notification in one transaction. */
async function finishBuild(db: TestDatabase, input: FailureNotificationInput) {
  return withTransaction(db.pool, (tx) => queueFailureNotification(tx, input));
}

async function notificationOf(db: TestDatabase, buildId: string) {
  const { rows } = await db.pool.query<{
    recipient: string | null;
    subject: string | null;
    status: string;
    attempts: number;
    last_error: string | null;
    sent_at: Date | null;
    created_at: Date;
  }>(
    `SELECT recipient, subject, status, attempts, last_error, sent_at, created_at FROM notifications WHERE build_id = $1`,
    [buildId],
  );
  return rows;
}

async function dbClock(db: TestDatabase): Promise<Date> {
  const { rows } = await db.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]!.now;
}

function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  return waitFor(probe, what, timeoutMs);
}

describe('failure emails', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let mailer: Mailer;

  beforeAll(async () => {
    db = await createTestDatabase('kiln_notify');
  });
  afterAll(async () => {
    await db[Symbol.asyncDispose]();
  });
  beforeEach(async () => {
    sink = await createSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, from: FROM, timeoutMs: 5_000 });
  });
  afterEach(async () => {
    mailer.close?.();
    await sink.stop();
    await db.pool.query('DELETE FROM notifications');
  });

  function sender(overrides: Partial<ConstructorParameters<typeof NotificationSender>[0]> = {}) {
    return new NotificationSender({ db: db.pool, mailer, logger, ...overrides });
  }

  test('a failing build sends exactly one email to the maintainer, with what they need to fix it', async () => {
    const buildId = await insertFailedBuild(db.pool, {
      logs: {
        1: ['attempt one: agent died here'],
        2: [...defaultLog(), 'TOKEN=tok-9f8e7d6c5b was printed by a careless script'],
      },
      attempt: 2,
      secretVar: { name: 'UPLOAD_TOKEN', value: 'tok-9f8e7d6c5b' },
    });
    const queued = await finishBuild(db, {
      buildId,
      maintainer: 'Jane Doe <jane@example.org>',
      commitAuthor: { name: 'Other', email: 'other@example.org' },
    });
    expect(queued).toMatchObject({
      buildId,
      kind: 'failure',
      status: 'pending',
      recipient: 'Jane Doe <jane@example.org>',
      attempts: 0,
      sentAt: null,
    });

    const s = sender();
    expect(await s.sendDue()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(await s.sendDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    const [mail] = await sink.waitForMessages(1);
    expect(sink.messages).toHaveLength(1);

    expect(mail!.envelopeTo).toEqual(['jane@example.org']);
    expect(mail!.envelopeFrom).toBe('kiln@builds.example.org');
    expect(mail!.header('to')).toBe('Jane Doe <jane@example.org>');
    expect(mail!.header('from')).toBe('Kiln Builds <kiln@builds.example.org>');
    expect(mail!.headers.has('cc')).toBe(false);
    expect(mail!.headers.has('bcc')).toBe(false);
    expect(mail!.header('auto-submitted')).toBe('auto-generated');
    expect(mail!.header('x-kiln-build')).toBe(buildId);
    expect(mail!.header('message-id')).toBe(`<failure.${buildId}@builds.example.org>`);
    expect(mail!.subject).toBe('[kiln] zlib-1.3.1 failed in build: make -j2 exited 2');

    for (const body of [mail!.text, mail!.html]) {
      expect(body).toContain('https://***@git.example.org/libs/zlib.git');
      expect(body).not.toContain('gh0-s3cret');
      expect(body).toContain('zlib-1.3.1');
      expect(body).toContain('0123456789abcdef0123456789abcdef01234567');
      expect(body).toContain('make -j2');
      expect(body).toContain(`kiln logs ${buildId}`);
      expect(body).not.toContain('tok-9f8e7d6c5b');
      expect(body).not.toContain('attempt one');
    }
    expect(mail!.text).toMatch(/^Failed stage: +build$/m);
    expect(mail!.text).toMatch(/^Failed command: +make -j2$/m);
    expect(mail!.text).toMatch(/^Exit code: +2$/m);
    expect(mail!.text).toMatch(/^Duration: +41\.2s \(/m);
    expect(mail!.text).toMatch(/^ {2}build +failed +29\.0s +exited 2$/m);
    // The last 50 lines of the latest attempt's log, masked.
    const tail = mail!.text.slice(mail!.text.indexOf('Last 50 lines of the log:\n'));
    expect(tail.split('\n').slice(1, 51)).toHaveLength(50);
    expect(tail).toContain('  gcc -O2 -c file73.c\n');
    expect(tail).not.toContain('file72.c');
    expect(tail).toContain('  make: *** [Makefile:3: all] Error 2\n  TOKEN=*** was printed by a careless script\n');
    expect(mail!.html).toContain('adler32.c:12:3: error: unknown type name &lt;uLong&gt; &amp; more');

    const [row] = await notificationOf(db, buildId);
    expect(row).toMatchObject({
      status: 'sent',
      attempts: 1,
      last_error: null,
      subject: mail!.subject,
      recipient: 'Jane Doe <jane@example.org>',
    });
    expect(row!.sent_at).toBeInstanceOf(Date);
  });

  test('without package.maintainer the commit author gets it', async () => {
    const buildId = await insertFailedBuild(db.pool);
    await finishBuild(db, { buildId, commitAuthor: { name: 'Sam Author', email: 'sam@example.org' } });
    await sender().sendDue();
    const [mail] = await sink.waitForMessages(1);
    expect(mail!.envelopeTo).toEqual(['sam@example.org']);
    expect(mail!.header('to')).toBe('Sam Author <sam@example.org>');
  });

  test('the commit author as the agent formats it ("Name <email>")', async () => {
    const buildId = await insertFailedBuild(db.pool);
    await finishBuild(db, { buildId, commitAuthor: 'Doe, Sam <sam@example.org>' });
    await sender().sendDue();
    const [mail] = await sink.waitForMessages(1);
    expect(mail!.envelopeTo).toEqual(['sam@example.org']);
    expect(mail!.header('to')).toBe('"Doe, Sam" <sam@example.org>');
    const refused = await insertFailedBuild(db.pool);
    expect(
      await finishBuild(db, { buildId: refused, commitAuthor: 'Sam <sam@example.org\r\nBcc: evil@example.org>' }),
    ).toMatchObject({
      status: 'refused',
      lastError: expect.stringMatching(/^the commit author's email contains a line break/),
    });
  });

  test('a listening sender wakes when another agent commits a failed build, with no poke and no timer', async () => {
    const s = sender({ pollIntervalMs: 600_000, listen: db.pool });
    s.start();
    const otherAgent = createPool(db.url, { max: 1 });
    try {
      // A commit before the LISTEN would only be found by the timer: wait until it listens.
      await until('listener', async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN kiln_notifications'`,
        );
        return rows[0]!.n === 1;
      });
      const buildId = await insertFailedBuild(otherAgent);
      await withTransaction(otherAgent, (tx) =>
        queueFailureNotification(tx, { buildId, maintainer: 'jane@example.org' }),
      );
      const [mail] = await sink.waitForMessages(1, 10_000);
      expect(mail!.header('x-kiln-build')).toBe(buildId);
    } finally {
      await s.stop();
      await otherAgent.end();
    }
  });

  test('an invalid manifest is a failure the maintainer hears about, with its line', async () => {
    const error = '.kiln.yml: stages[1]: "tset" is listed but has no section (line 14)';
    const buildId = await insertFailedBuild(db.pool, {
      status: 'errored',
      error,
      failedStage: null,
      failedCommand: null,
      exitCode: null,
      logs: {},
    });
    await finishBuild(db, { buildId, commitAuthor: { name: 'Sam', email: 'sam@example.org' } });
    await sender().sendDue();
    const [mail] = await sink.waitForMessages(1);
    expect(mail!.subject).toBe('[kiln] zlib-1.3.1 errored: invalid manifest .kiln.yml line 14');
    expect(mail!.text).toContain(`The manifest is invalid:\n  ${error}\n`);
  });

  test('with the SMTP server down, the email is retried with backoff and goes out once it is back, across an agent restart', async () => {
    // "Started a minute later" in the issue; the backoff is configurable and
    // shrunk here so the suite stays fast (defaults: 5s doubling to 5 min).
    const port = await freePort();
    const down = await createSmtpSink({ port, start: false });
    const downMailer = createSmtpMailer({ url: down.url, from: FROM, timeoutMs: 5_000 });
    const buildId = await insertFailedBuild(db.pool);
    const retry = { firstDelayMs: 300, maxDelayMs: 1_000 };
    const first = new NotificationSender({ db: db.pool, mailer: downMailer, logger, retry, pollIntervalMs: 200 });
    first.start();
    await finishBuild(db, { buildId, maintainer: 'jane@example.org' });
    // Queueing never touched SMTP, so the build's transaction (and its ack) did not wait for it.
    first.poke();

    const failing = await until('failed attempts', async () => {
      const [row] = await notificationOf(db, buildId);
      return row && row.attempts >= 3 ? row : undefined;
    });
    expect(failing).toMatchObject({ status: 'pending', sent_at: null });
    expect(failing.last_error).toMatch(/ECONNREFUSED|connect/i);
    // The agent goes away while the server is still down.
    await first.stop();

    // The database's clock, as sent_at is: no comparison with this process's clock.
    const backAt = await dbClock(db);
    await down.start();
    const pool = createPool(db.url, { max: 2 });
    const second = new NotificationSender({ db: pool, mailer: downMailer, logger, retry, pollIntervalMs: 200 });
    try {
      second.start();
      const [mail] = await down.waitForMessages(1);
      expect(mail!.envelopeTo).toEqual(['jane@example.org']);
      const row = await until('sent row', async () =>
        (await notificationOf(db, buildId)).find((r) => r.status === 'sent'),
      );
      expect(row.attempts).toBeGreaterThanOrEqual(4);
      expect(row.sent_at!.getTime()).toBeGreaterThanOrEqual(backAt.getTime());
      expect(row.sent_at!.getTime()).toBeGreaterThan(row.created_at.getTime());
      expect(row.last_error).toMatch(/ECONNREFUSED|connect/i);
      expect(down.messages).toHaveLength(1);
    } finally {
      await second.stop();
      await pool.end();
      downMailer.close?.();
      await down.stop();
    }
  }, 30_000);

  test.each([
    ['CR/LF header injection', 'a@example.org\r\nBcc: evil@example.org'],
    ['LF injection in the name', 'Jane\nBcc: evil@example.org <a@example.org>'],
    ['several addresses', 'a@example.org, evil@example.org'],
    ['a quoted local part', '"evil@attacker.example"@example.org'],
    ['a source route', '<@relay.example.org:evil@attacker.example>'],
  ])('a maintainer address with %s sends nothing to anyone and is recorded as refused', async (_what, maintainer) => {
    const buildId = await insertFailedBuild(db.pool);
    const record = await finishBuild(db, {
      buildId,
      maintainer,
      commitAuthor: { name: 'Sam', email: 'sam@example.org' },
    });
    expect(record.status).toBe('refused');
    expect(await sender().sendDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });

    // A good build right after goes out, which shows the sink was listening all along.
    const okBuild = await insertFailedBuild(db.pool);
    await finishBuild(db, { buildId: okBuild, maintainer: 'ok@example.org' });
    await sender().sendDue();
    await sink.waitForMessages(1);
    expect(sink.messages.map((m) => m.envelopeTo)).toEqual([['ok@example.org']]);
    expect(sink.messages[0]!.raw).not.toMatch(/evil|attacker|sam@/);

    const [row] = await notificationOf(db, buildId);
    expect(row).toMatchObject({ status: 'refused', sent_at: null, attempts: 0 });
    expect(row!.last_error).toMatch(/^package\.maintainer /);
    expect(row!.recipient).not.toMatch(/[\r\n]/);
  });

  test('a redelivered job queues again and still one email goes out', async () => {
    const buildId = await insertFailedBuild(db.pool);
    const first = await finishBuild(db, { buildId, maintainer: 'jane@example.org' });
    const again = await finishBuild(db, { buildId, maintainer: 'jane@example.org' });
    expect(again.id).toBe(first.id);
    await sender().sendDue();
    // Redelivered after the email went out (the agent died before its ack).
    const late = await finishBuild(db, { buildId, maintainer: 'someone-else@example.org' });
    expect(late).toMatchObject({ id: first.id, status: 'sent', recipient: 'jane@example.org' });
    await sender().sendDue();
    await sink.waitForMessages(1);
    expect(sink.messages).toHaveLength(1);
    expect(await notificationOf(db, buildId)).toHaveLength(1);
  });

  test('a result transaction that rolls back queues nothing', async () => {
    const buildId = await insertFailedBuild(db.pool);
    await expect(
      withTransaction(db.pool, async (tx) => {
        await queueFailureNotification(tx, { buildId, maintainer: 'jane@example.org' });
        throw new Error('the agent lost its database mid-commit');
      }),
    ).rejects.toThrow('mid-commit');
    expect(await notificationOf(db, buildId)).toEqual([]);
  });

  test('two agents sending at once send each email once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const buildId = await insertFailedBuild(db.pool, { version: `1.3.${i}` });
      await finishBuild(db, { buildId, maintainer: `m${i}@example.org` });
      ids.push(buildId);
    }
    const poolA = createPool(db.url, { max: 2 });
    const poolB = createPool(db.url, { max: 2 });
    try {
      const a = new NotificationSender({ db: poolA, mailer, logger, batchSize: 3 });
      const b = new NotificationSender({ db: poolB, mailer, logger, batchSize: 3 });
      const results = await Promise.all([a.sendDue(), b.sendDue(), a.sendDue(), b.sendDue()]);
      expect(results.reduce((n, r) => n + r.sent, 0)).toBe(24);
    } finally {
      await poolA.end();
      await poolB.end();
    }
    await sink.waitForMessages(24);
    expect(sink.messages).toHaveLength(24);
    expect(new Set(sink.messages.map((m) => m.header('x-kiln-build')))).toEqual(new Set(ids));
    // 24 builds written and 24 emails rendered and sent: a minute, for a loaded 2-core machine.
  }, 60_000);

  test('a recipient the server refuses for good is recorded as failed, not retried', async () => {
    await sink.stop();
    sink = await createSmtpSink({ rejectRecipients: ['gone@example.org'] });
    mailer.close?.();
    mailer = createSmtpMailer({ url: sink.url, from: FROM, timeoutMs: 5_000 });
    const buildId = await insertFailedBuild(db.pool);
    await finishBuild(db, { buildId, maintainer: 'gone@example.org' });
    expect(await sender().sendDue()).toEqual({ sent: 0, retrying: 0, failed: 1 });
    const [row] = await notificationOf(db, buildId);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, sent_at: null });
    expect(row!.last_error).toMatch(/550/);
  });

  test('a running sender sends as soon as it is poked', async () => {
    const own = createPool(db.url, { max: 1, applicationName: 'kiln-test-poked-sender' });
    const s = sender({ pollIntervalMs: 600_000, db: own });
    s.start();
    try {
      // The first round (at start) has found nothing: its last query, "when is the next one due", is done.
      await until('the first round to end', async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE application_name = 'kiln-test-poked-sender' AND state = 'idle' AND query LIKE '%min(next_attempt_at)%'`,
        );
        return rows[0]!.n === 1;
      });
      const buildId = await insertFailedBuild(db.pool);
      await finishBuild(db, { buildId, maintainer: 'jane@example.org' });
      s.poke();
      const [mail] = await sink.waitForMessages(1, 10_000);
      expect(mail!.header('x-kiln-build')).toBe(buildId);
    } finally {
      await s.stop();
      await own.end();
    }
  });
});

describe('the same failure on hotfix after hotfix', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let mailer: Mailer;

  beforeAll(async () => {
    db = await createTestDatabase('kiln_notify_digest');
  });
  afterAll(async () => {
    await db[Symbol.asyncDispose]();
  });
  beforeEach(async () => {
    sink = await createSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, from: FROM, timeoutMs: 5_000 });
  });
  afterEach(async () => {
    mailer.close?.();
    await sink.stop();
    await db.pool.query('DELETE FROM builds');
  });

  /** A failed build of `name-version` queued the way the agent does it. */
  async function fail(version: string, spec: BuildSpec = {}, maintainer = 'jane@example.org') {
    const buildId = await insertFailedBuild(db.pool, { packageName: 'zlib', version, ...spec });
    const record = await finishBuild(db, { buildId, maintainer });
    return { buildId, record };
  }

  async function succeed(version: string) {
    await db.pool.query(
      `INSERT INTO builds (id, repo, branch, package_name, package_version, status, attempt, started_at, finished_at)
       VALUES ($1, 'https://git.example.org/zlib.git', $2, 'zlib', $3, 'succeeded', 1, now(), now())`,
      [randomUUID(), `zlib-${version}`, version],
    );
  }

  function sender(digestDelayMs: number) {
    return new NotificationSender({ db: db.pool, mailer, logger, digestDelayMs });
  }

  test('the first failure is emailed, its repeats are suppressed and then sent as one digest', async () => {
    const first = await fail('1.3.1');
    await sender(3_600_000).sendDue();
    const second = await fail('1.3.2');
    const third = await fail('1.3.3');
    expect(first.record.status).toBe('pending');
    expect(second.record).toMatchObject({ status: 'suppressed', repeatOf: first.record.id });
    expect(third.record).toMatchObject({ status: 'suppressed', repeatOf: first.record.id });

    // Still inside the digest delay: nothing more goes out.
    expect(await sender(3_600_000).sendDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect(sink.messages).toHaveLength(1);

    expect(await sender(0).sendDue()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    const [original, digest] = await sink.waitForMessages(2);
    expect(original!.subject).toBe('[kiln] zlib-1.3.1 failed in build: make -j2 exited 2');
    expect(digest!.envelopeTo).toEqual(['jane@example.org']);
    expect(digest!.subject).toBe('[kiln] zlib failed in build: make -j2 exited 2 again: zlib-1.3.2, zlib-1.3.3');
    expect(digest!.header('x-kiln-build')).toBe(third.buildId);
    expect(digest!.text).toMatch(
      /^The failure Kiln emailed about for zlib-1\.3\.1 on .* happened again in 2 more builds:$/m,
    );
    expect(digest!.text).toMatch(new RegExp(`^  zlib-1\\.3\\.2 .*kiln logs ${second.buildId}$`, 'm'));
    expect(digest!.text).toMatch(new RegExp(`^  zlib-1\\.3\\.3 .*kiln logs ${third.buildId}$`, 'm'));
    expect(digest!.text).toContain('The latest of them, in full:\n\nzlib-1.3.3 failed in build: make -j2 exited 2\n');
    expect(digest!.html).toContain(`<code>kiln logs ${second.buildId}</code>`);

    const rows = await db.pool.query<{ kind: string; status: string; digest_id: string | null }>(
      `SELECT kind, status, digest_id::text AS digest_id FROM notifications ORDER BY id`,
    );
    const digestRow = rows.rows.find((r) => r.kind === 'digest');
    expect(rows.rows.map((r) => [r.kind, r.status])).toEqual([
      ['failure', 'sent'],
      ['failure', 'suppressed'],
      ['failure', 'suppressed'],
      ['digest', 'sent'],
    ]);

    // A repeat after the digest goes into the next digest, alone.
    const fourth = await fail('1.3.4');
    expect(fourth.record).toMatchObject({ status: 'suppressed', repeatOf: first.record.id });
    await sender(0).sendDue();
    const [, , next] = await sink.waitForMessages(3);
    expect(next!.subject).toBe('[kiln] zlib failed in build: make -j2 exited 2 again: zlib-1.3.4');
    expect(digestRow).toBeDefined();
    expect(sink.messages).toHaveLength(3);
  });

  test('a different failure, a success in between, another recipient or an old first email: emailed again', async () => {
    await fail('1.3.1');
    expect((await fail('1.3.2', { exitCode: 1 })).record.status).toBe('pending');
    expect((await fail('1.3.3', { failedCommand: 'make check' })).record.status).toBe('pending');
    await succeed('1.3.4');
    await fail('1.3.5');
    expect((await fail('1.3.6')).record.status).toBe('suppressed');
    expect((await fail('1.3.7', {}, 'someone@example.org')).record.status).toBe('pending');
    await db.pool.query(`UPDATE notifications SET created_at = now() - interval '25 hours'`);
    expect((await fail('1.3.8', {}, 'someone@example.org')).record.status).toBe('pending');
  });

  test('an invalid manifest repeats only with the same error', async () => {
    const manifest = (error: string): BuildSpec => ({
      status: 'errored',
      error,
      failedStage: null,
      failedCommand: null,
      exitCode: null,
      logs: {},
    });
    await fail('1.3.1', manifest('.kiln.yml: imagee: unknown key (line 2)'));
    expect((await fail('1.3.2', manifest('.kiln.yml: imagee: unknown key (line 2)'))).record.status).toBe('suppressed');
    expect((await fail('1.3.3', manifest('.kiln.yml: stages: is required (line 1)'))).record.status).toBe('pending');
  });

  test('two senders gathering at once make one digest', async () => {
    const first = await fail('1.3.1');
    for (const v of ['1.3.2', '1.3.3', '1.3.4', '1.3.5']) await fail(v);
    const poolB = createPool(db.url, { max: 2 });
    try {
      const b = new NotificationSender({ db: poolB, mailer, logger, digestDelayMs: 0 });
      await Promise.all([sender(0).sendDue(), b.sendDue(), sender(0).sendDue()]);
    } finally {
      await poolB.end();
    }
    await sink.waitForMessages(2);
    expect(sink.messages.map((m) => m.subject)).toEqual(
      expect.arrayContaining([
        '[kiln] zlib-1.3.1 failed in build: make -j2 exited 2',
        '[kiln] zlib failed in build: make -j2 exited 2 again: zlib-1.3.2, zlib-1.3.3, zlib-1.3.4 and 1 more',
      ]),
    );
    expect(sink.messages).toHaveLength(2);
    const digests = await db.pool.query(`SELECT 1 FROM notifications WHERE kind = 'digest' AND repeat_of = $1`, [
      first.record.id,
    ]);
    expect(digests.rowCount).toBe(1);
  });
});

describe('success emails, for repositories that opt in', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let mailer: Mailer;

  beforeAll(async () => {
    db = await createTestDatabase('kiln_notify_success');
    sink = await createSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, from: FROM, timeoutMs: 5_000 });
  });
  afterAll(async () => {
    mailer.close?.();
    await sink.stop();
    await db[Symbol.asyncDispose]();
  });

  async function succeeded(repo: string, name = 'zlib'): Promise<string> {
    const id = randomUUID();
    await db.pool.query(
      `INSERT INTO builds (id, repo, branch, commit, package_name, package_version, status, attempt, started_at, finished_at, duration_ms)
       VALUES ($1, $2, $3 || '-1.3.1', 'abc123', $3, '1.3.1', 'succeeded', 1, now(), now(), 41234)`,
      [id, repo, name],
    );
    await db.pool.query(
      `INSERT INTO build_stages (build_id, position, name, status, exit_code, duration_ms) VALUES ($1, 0, 'build', 'succeeded', 0, 30000)`,
      [id],
    );
    await db.pool.query(
      `INSERT INTO packages (name, version, arch, build_id, installed_size, file_count, artifact) VALUES ($2, '1.3.1', 'amd64', $1, 1258291, 3, NULL)`,
      [id, name],
    );
    return id;
  }

  test('an opted-in repository hears about a success once; others do not', async () => {
    const optIn = { repos: ['https://git.example.org/libs/zlib'] };
    const wanted = await succeeded('https://***@git.example.org/libs/zlib.git');
    const other = await succeeded('https://git.example.org/libs/openssl.git', 'openssl');
    const queue = (buildId: string) =>
      withTransaction(db.pool, (tx) =>
        queueSuccessNotification(tx, { buildId, maintainer: 'jane@example.org' }, optIn),
      );
    expect(await queue(other)).toBeNull();
    expect(await queue(wanted)).toMatchObject({ kind: 'success', status: 'pending' });
    expect(await queue(wanted)).toMatchObject({ kind: 'success', status: 'pending' });
    await new NotificationSender({ db: db.pool, mailer, logger }).sendDue();
    const [mail] = await sink.waitForMessages(1);
    expect(sink.messages).toHaveLength(1);
    expect(mail!.envelopeTo).toEqual(['jane@example.org']);
    expect(mail!.subject).toBe('[kiln] zlib-1.3.1 built in 41.2s');
    expect(mail!.text).toMatch(/^Installed: +3 files, 1\.2 MiB$/m);
    expect(mail!.text).toContain(`kiln logs ${wanted}`);
    expect(await queueSuccessNotification(db.pool, { buildId: other }, { repos: ['*'] })).toMatchObject({
      status: 'refused',
    });
  });
});
