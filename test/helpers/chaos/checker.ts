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
  /** Failed builds whose maintainer got no email. */
  missingEmails: number;
  /** Emails beyond one per failed build, and emails about builds that did not fail. */
  duplicatedEmails: number;
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

/** Reads the database, the queues, the mail sink and Docker. */
export async function countChaos(farm: Farm, submitted: readonly SubmittedJob[]): Promise<ChaosCounts> {
  const { rows } = await farm.pool.query<BuildFact>('SELECT id::text AS id, branch, status FROM builds');
  const byBranch = new Map<string, BuildFact[]>();
  for (const row of rows) {
    const list = byBranch.get(row.branch ?? '') ?? [];
    list.push(row);
    byBranch.set(row.branch ?? '', list);
  }
  const finished = (b: BuildFact) => ['succeeded', 'failed', 'errored', 'cancelled'].includes(b.status);
  const expected = new Set(submitted.map((j) => j.branch));
  const mails = new Map<string, number>();
  for (const mail of farm.smtp.messages) {
    if (!mail.envelopeTo.includes(MAINTAINER)) continue;
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
    unsentEmails: 0,
    stuckBuilds: rows.filter((b) => !finished(b)).length,
    containersLeft: 0,
    queuedMessages: 0,
    deadLettered: 0,
  };
  for (const job of submitted) {
    const builds = byBranch.get(job.branch) ?? [];
    const done = builds.filter(finished);
    if (done.length === 0) counts.lost++;
    else counts.recorded++;
    counts.duplicatedResults += Math.max(0, builds.length - 1);
    if (done.some((b) => b.status !== job.outcome)) counts.wrongResults++;
    const sent = mails.get(job.branch) ?? 0;
    if (job.outcome === 'failed' && sent === 0) counts.missingEmails++;
    counts.duplicatedEmails += job.outcome === 'failed' ? Math.max(0, sent - 1) : sent;
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
