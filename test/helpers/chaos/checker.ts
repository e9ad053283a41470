import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connectAmqp, deadLetterQueueName } from '@kiln/shared';
import type { Farm } from './farm.js';
import { MAINTAINER, type SubmittedJob } from './workload.js';

const run = promisify(execFile);

/**
 * What a chaos run counts at the end, Jepsen's way: not pass or fail but how
 * many of each thing went wrong. Every count after `recorded` must be 0.
 */
export interface ChaosCounts {
  submitted: number;
  recorded: number;
  /** Submitted jobs with no finished build. */
  lost: number;
  /** Finished with another status than the job's manifest gives (a success recorded as errored, …). */
  wrongResults: number;
  /** Builds beyond the first for one job, and builds of no submitted job. */
  duplicatedResults: number;
  /**
   * Failed builds whose maintainer was not told: no notification, a notification
   * that failed, or one marked sent that never reached the mail server. A
   * failure that repeats the previous build's is `suppressed` (it goes into a
   * digest, by Kiln's design): it counts as told when the email it repeats was sent.
   */
  missingEmails: number;
  /** Emails beyond one per sent notification, and emails about builds that were not to be mailed. */
  duplicatedEmails: number;
  /** Emails the mail server took twice under one Message-ID (SMTP's at-least-once; reported, not a defect count). */
  resentSameMessageId: number;
  /** Notifications still waiting to go out. */
  unsentEmails: number;
  /** Builds still queued or running. */
  stuckBuilds: number;
  /** Containers of the run's builds still in Docker. */
  containersLeft: number;
  /** Messages still in the build queue (ready or held), and in its dead-letter queue. */
  queuedMessages: number;
  deadLettered: number;
}

export const MUST_BE_ZERO: ReadonlyArray<keyof ChaosCounts> = [
  'lost',
  'wrongResults',
  'duplicatedResults',
  'missingEmails',
  'duplicatedEmails',
  'unsentEmails',
  'stuckBuilds',
  'containersLeft',
  'queuedMessages',
  'deadLettered',
];

interface NotificationFact {
  branch: string;
  status: string;
  /** The status of the email this one repeats (for a suppressed one). */
  original: string | null;
}

interface BuildFact {
  id: string;
  branch: string | null;
  status: string;
}

async function queueDepths(url: string): Promise<{ queued: number; dead: number }> {
  const connection = await connectAmqp(url);
  try {
    const channel = await connection.createChannel();
    const main = await channel.checkQueue('build_queue');
    const dead = await channel.checkQueue(deadLetterQueueName('build_queue'));
    // Ready messages only: what a consumer holds unacknowledged comes from the management API.
    return { queued: main.messageCount, dead: dead.messageCount };
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Up to a few jobs behind each count that is not 0, to start the hunt from. */
export type ChaosExamples = Partial<Record<keyof ChaosCounts, string[]>>;

/** Reads the database, the queues, the mail sink and Docker. */
export async function countChaos(
  farm: Farm,
  submitted: readonly SubmittedJob[],
  examples: ChaosExamples = {},
): Promise<ChaosCounts> {
  const note = (key: keyof ChaosCounts, what: string) => {
    const list = (examples[key] ??= []);
    if (list.length < 5) list.push(what);
  };
  const { rows } = await farm.pool.query<BuildFact>('SELECT id::text AS id, branch, status FROM builds');
  const byBranch = new Map<string, BuildFact[]>();
  for (const row of rows) {
    const list = byBranch.get(row.branch ?? '') ?? [];
    list.push(row);
    byBranch.set(row.branch ?? '', list);
  }
  const { rows: told } = await farm.pool.query<NotificationFact>(
    `SELECT b.branch, n.status, o.status AS original
       FROM notifications n JOIN builds b ON b.id = n.build_id
       LEFT JOIN notifications o ON o.id = n.repeat_of
      WHERE n.kind = 'failure'`,
  );
  const notices = new Map<string, NotificationFact[]>();
  for (const n of told) notices.set(n.branch, [...(notices.get(n.branch) ?? []), n]);
  const finished = (b: BuildFact) => ['succeeded', 'failed', 'errored', 'cancelled'].includes(b.status);
  const expected = new Set(submitted.map((j) => j.branch));
  // Emails by the build they are about, one per Message-ID: SMTP delivers at least once (a server
  // that dies after taking a message but before its reply reaches Kiln gets it again, under the
  // same Message-ID, which is how mail readers drop the repeat); such repeats are counted apart.
  const mails = new Map<string, number>();
  const messageIds = new Set<string>();
  let resent = 0;
  for (const mail of farm.smtp.messages) {
    // Digests (a run of repeated failures, after an hour) name the package, not one build.
    if (!mail.envelopeTo.includes(MAINTAINER) || mail.subject.includes(' again: ')) continue;
    const messageId = mail.header('message-id') ?? `${messageIds.size}-no-id`;
    if (messageIds.has(messageId)) {
      resent++;
      continue;
    }
    messageIds.add(messageId);
    const about = /^\[kiln\] (\S+) /.exec(mail.subject)?.[1] ?? mail.subject;
    mails.set(about, (mails.get(about) ?? 0) + 1);
  }
  const counts: ChaosCounts = {
    submitted: submitted.length,
    recorded: 0,
    lost: 0,
    wrongResults: 0,
    duplicatedResults: 0,
    missingEmails: 0,
    duplicatedEmails: 0,
    resentSameMessageId: resent,
    unsentEmails: 0,
    stuckBuilds: rows.filter((b) => !finished(b)).length,
    containersLeft: 0,
    queuedMessages: 0,
    deadLettered: 0,
  };
  for (const job of submitted) {
    const builds = byBranch.get(job.branch) ?? [];
    const done = builds.filter(finished);
    if (done.length === 0) {
      counts.lost++;
      note('lost', `${job.branch} (${job.via}): ${builds.map((b) => b.status).join(', ') || 'no build'}`);
    } else counts.recorded++;
    if (builds.length > 1) note('duplicatedResults', `${job.branch}: ${builds.length} builds`);
    counts.duplicatedResults += Math.max(0, builds.length - 1);
    if (done.some((b) => b.status !== job.outcome)) {
      counts.wrongResults++;
      note('wrongResults', `${job.branch}: ${done.map((b) => b.status).join(', ')}, expected ${job.outcome}`);
    }
    const mailed = mails.get(job.branch) ?? 0;
    const notes = notices.get(job.branch) ?? [];
    const sent = notes.filter((n) => n.status === 'sent').length;
    const covered = notes.filter((n) => n.status === 'suppressed' && n.original === 'sent').length;
    const state = `${job.branch} (${job.via}): ${notes.map((n) => `${n.status}/${n.original}`).join(', ') || 'none'}, ${mailed} mailed`;
    if (job.outcome === 'failed' && (sent === 0 ? covered === 0 : mailed === 0)) {
      counts.missingEmails++;
      note('missingEmails', state);
    }
    const extra = Math.max(0, mailed - sent) + Math.max(0, notes.length - 1);
    if (extra > 0) note('duplicatedEmails', state);
    counts.duplicatedEmails += extra;
  }
  counts.duplicatedResults += rows.filter((b) => !expected.has(b.branch ?? '')).length;
  for (const [about, n] of mails) if (!expected.has(about)) counts.duplicatedEmails += n;
  const { rows: pending } = await farm.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM notifications WHERE status = 'pending'",
  );
  counts.unsentEmails = pending[0]?.n ?? 0;

  const ids = new Set(rows.map((b) => b.id));
  const { stdout } = await run('docker', [
    'ps',
    '-a',
    '--filter',
    'label=kiln.build-id',
    '--format',
    '{{.Label "kiln.build-id"}}',
  ]);
  counts.containersLeft = stdout.split('\n').filter((id) => ids.has(id)).length;

  const depths = await queueDepths(farm.rabbit.url);
  const stats = await farm.rabbit.queueStats('build_queue');
  counts.queuedMessages = Math.max(depths.queued, (stats?.ready ?? 0) + (stats?.unacked ?? 0));
  counts.deadLettered = depths.dead;
  return counts;
}

/** The counts as a table a person reads, with the seed that replays the run. */
export function formatCounts(counts: ChaosCounts, seed: number, extra: Record<string, string | number> = {}): string {
  const lines = Object.entries({ ...counts, ...extra }).map(([k, v]) => `  ${k.padEnd(18)} ${v}`);
  return [`chaos run (seed ${seed}; KILN_TEST_SEED=${seed} or --seed ${seed} replays it)`, ...lines].join('\n');
}
