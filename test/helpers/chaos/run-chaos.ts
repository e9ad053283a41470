import type { SeededRandom } from '../seeded-random.js';
import { waitFor } from '../wait.js';
import { countChaos, formatCounts, MUST_BE_ZERO, type ChaosCounts, type ChaosExamples } from './checker.js';
import { startFarm } from './farm.js';
import { faultInjector, faultSchedule, type Fault } from './faults.js';
import { Workload } from './workload.js';

export interface ChaosOptions {
  jobs: number;
  faults: number;
  agents: number;
  /** Workers per agent. */
  concurrency: number;
  random: SeededRandom;
  /** Jobs are submitted evenly over this window, and the faults fall in it. */
  windowMs: number;
  /** How long the farm may take to settle once the window is over. */
  settleMs: number;
  say?: (line: string) => void;
  /** Keep every process's log lines here (see FarmOptions.logDir). */
  logDir?: string;
}

export interface ChaosReport {
  seed: number;
  counts: ChaosCounts;
  faults: Fault[];
  durationMs: number;
  /** The counts that are not 0. */
  failures: string[];
  text: string;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One chaos run: a farm of its own, `jobs` small jobs flowing in, the seeded
 * faults among them; then every fault undone, the farm left to settle (until
 * every job has a result and every email went out, or `settleMs`), and the
 * checker's counts.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const say = options.say ?? (() => {});
  const started = Date.now();
  const farm = await startFarm({
    agents: options.agents,
    concurrency: options.concurrency,
    lease: '5s',
    say,
    logDir: options.logDir,
  });
  try {
    // Everyone up before the first job: the first agent start takes a while on a busy machine.
    await waitFor(
      () =>
        farm.agents.every((a) => a.current()?.lines.some((l) => l.msg === 'agent started')) &&
        farm.crawler.current()?.lines.some((l) => /crawler started|watching/i.test(l.msg)),
      'the farm to start',
      180_000,
      200,
    );
    const workload = await Workload.create(farm, options.random);
    const faults = faultSchedule(options.random, options.faults, options.windowMs, options.agents);
    say(`${options.jobs} jobs, ${faults.length} faults over ${options.windowMs} ms, seed ${options.random.seed}`);
    const inject = faultInjector(farm, say);
    const t0 = Date.now();
    const injected = faults.map(async (fault) => {
      await pause(fault.atMs);
      await inject(fault);
    });
    for (let n = 0; n < options.jobs; n++) {
      const due = t0 + (n * options.windowMs) / options.jobs;
      if (due > Date.now()) await pause(due - Date.now());
      await workload.submit(n);
    }
    await Promise.all(injected);
    say('every fault undone; waiting for the farm to settle');
    const branches = workload.submitted.map((j) => j.branch);
    await waitFor(
      async () => {
        const { rows } = await farm.pool
          .query<{ done: number; pending: number }>(
            `SELECT (SELECT count(DISTINCT branch)::int FROM builds
                      WHERE branch = ANY($1) AND status IN ('succeeded', 'failed', 'errored', 'cancelled')) AS done,
                    (SELECT count(*)::int FROM notifications WHERE status = 'pending')
                  + (SELECT count(*)::int FROM builds WHERE status IN ('queued', 'running')) AS pending`,
            [branches],
          )
          .catch(() => ({ rows: [] }));
        const now = rows[0];
        return now !== undefined && now.done === branches.length && now.pending === 0;
      },
      'every job to have a result and every email to go out',
      options.settleMs,
      1_000,
    ).catch((err: unknown) => say(String(err)));
    // The last acks and container removals trail the last result by a moment.
    await waitFor(
      async () => {
        const counts = await countChaos(farm, workload.submitted);
        return counts.containersLeft === 0 && counts.queuedMessages === 0;
      },
      'the queue to empty and the containers to go',
      60_000,
      1_000,
    ).catch(() => undefined);
    const examples: ChaosExamples = {};
    const counts = await countChaos(farm, workload.submitted, examples);
    const durationMs = Date.now() - started;
    const failures = MUST_BE_ZERO.filter((k) => counts[k] !== 0).map((k) => `${k}: ${counts[k]}`);
    const text = formatCounts(counts, options.random.seed, {
      faults: faults.length,
      agents: options.agents,
      durationSeconds: Math.round(durationMs / 1000),
    });
    say(text);
    for (const [key, list] of Object.entries(examples)) say(`  ${key}, for example: ${list.join('; ')}`);
    return { seed: options.random.seed, counts, faults, durationMs, failures, text };
  } finally {
    await farm.close();
  }
}
