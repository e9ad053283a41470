import { toError, type BuildJob, type Logger, type Trigger } from '@kiln/shared';
import type { HeadLister, HeadListing, Heads } from '../git/ls-remote.js';
import { diffRefs, hasChanges } from '../refs/ref-diff.js';
import type { RefStore } from '../refs/ref-store.js';
import type { WatchedRepo, WatchList } from '../sources/watch-list.js';
import { Backoff } from './backoff.js';
import { Limiter, type Slot } from './limiter.js';

export interface CrawlerOptions {
  watchList: WatchList;
  lister: HeadLister;
  store: RefStore;
  /** Called after new jobs were stored (the outbox relay publishes them). */
  onJobs: (jobs: BuildJob[]) => void;
  logger: Logger;
  intervalMs: number;
  concurrency: number;
  /** Longest wait between attempts at a failing repository (default 15 min, or the interval if longer). */
  maxBackoffMs?: number;
  now?: () => number;
  /** Runs after every poll cycle (main.ts passes a full garbage collection; see collect-garbage.ts). */
  afterCycle?: () => void;
}

export interface CheckResult {
  repo: string;
  ok: boolean;
  jobs: BuildJob[];
  error?: string;
}

export interface CycleStats {
  repos: number;
  checked: number;
  failed: number;
  /** Skipped this cycle because the repository is backing off. */
  deferred: number;
  builds: number;
  durationMs: number;
}

interface Check {
  trigger: Trigger;
  urgent: boolean;
  slot: Slot | null;
  /** The ls-remote has begun: a later push may not be in what it sees. */
  listing: boolean;
  promise: Promise<CheckResult>;
}

interface RepoState {
  repo: WatchedRepo;
  /** Digest of the last listing whose changes were recorded: the same answer again means nothing to do. */
  digest: string | null;
  backoff: Backoff;
  active: Check | null;
  next: Check | null;
  reported: Set<string>;
}

const URGENT: ReadonlySet<Trigger> = new Set(['webhook', 'hook', 'manual', 'cli']);

/**
 * Watches release heads. A poll cycle checks every watched repository (bounded
 * concurrency; failing ones back off); a webhook or hook checks one at once.
 * Checks of one repository never overlap: a trigger that arrives while one is
 * listing queues exactly one more, so a push is never missed and never
 * checked twice in parallel.
 */
export class Crawler {
  private readonly states = new Map<string, RepoState>();
  private readonly limiter: Limiter;
  private readonly now: () => number;
  private running = false;
  private loop: Promise<void> | null = null;
  private stopWaiting: (() => void) | null = null;
  private storeFailing = false;
  private cycles = 0;

  constructor(private readonly options: CrawlerOptions) {
    this.limiter = new Limiter(options.concurrency);
    this.now = options.now ?? Date.now;
  }

  /** Polls now and then every interval until closed. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.running = false;
    this.stopWaiting?.();
    await this.loop;
    await Promise.all([...this.states.values()].flatMap((s) => [s.active?.promise, s.next?.promise]));
  }

  get cycleCount(): number {
    return this.cycles;
  }

  /** One full poll cycle: rescan the sources, check every repository that is due. */
  async pollOnce(): Promise<CycleStats> {
    const started = this.now();
    const repos = await this.options.watchList.refresh();
    const stats: CycleStats = { repos: repos.length, checked: 0, failed: 0, deferred: 0, builds: 0, durationMs: 0 };
    const live = new Set<string>();
    const due: RepoState[] = [];
    for (const repo of repos) {
      live.add(repo.location);
      const state = this.stateOf(repo);
      if (state.backoff.isDue(started)) due.push(state);
      else stats.deferred++;
    }
    // A fixed set of workers rather than a promise per repository: nothing
    // waits in memory for its turn, and each check's garbage dies young.
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const state = due[next++];
        if (!state) break;
        const result = await this.schedule(state, 'poll');
        stats.checked++;
        if (!result.ok) stats.failed++;
        stats.builds += result.jobs.length;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, due.length) }, worker));
    // Forget repositories no longer watched (their refs stay in the database).
    for (const [location, state] of this.states) {
      if (!live.has(location) && !state.active && !state.next) this.states.delete(location);
    }
    this.options.afterCycle?.();
    stats.durationMs = this.now() - started;
    this.cycles++;
    this.options.logger.debug(stats, 'poll cycle done');
    return stats;
  }

  /** Someone pushed to this repository: look now, whatever its backoff. */
  trigger(repo: WatchedRepo, trigger: Trigger): Promise<CheckResult> {
    return this.schedule(this.stateOf(repo), trigger);
  }

  private stateOf(repo: WatchedRepo): RepoState {
    let state = this.states.get(repo.location);
    if (!state) {
      const base = this.options.intervalMs;
      const max = Math.max(this.options.maxBackoffMs ?? 15 * 60_000, base);
      state = { repo, digest: null, backoff: new Backoff(base, max), active: null, next: null, reported: new Set() };
      this.states.set(repo.location, state);
    }
    return state;
  }

  private schedule(state: RepoState, trigger: Trigger): Promise<CheckResult> {
    const urgent = URGENT.has(trigger);
    // A check that has not started listing yet will see this push: join it.
    for (const check of [state.next, state.active]) {
      if (check && !check.listing) {
        if (urgent && !check.urgent) {
          check.urgent = true;
          check.trigger = trigger;
          check.slot?.promote();
        }
        return check.promise;
      }
    }
    const check: Check = {
      trigger,
      urgent,
      slot: null,
      listing: false,
      promise: Promise.resolve() as unknown as Promise<CheckResult>,
    };
    const before = state.active?.promise ?? Promise.resolve();
    check.promise = before.then(async () => {
      state.active = check;
      if (state.next === check) state.next = null;
      try {
        return await this.check(state, check);
      } finally {
        if (state.active === check) state.active = null;
      }
    });
    if (state.active) state.next = check;
    else state.active = check;
    return check.promise;
  }

  private async check(state: RepoState, check: Check): Promise<CheckResult> {
    const { logger, lister } = this.options;
    const { repo } = state;
    // The slot is held until the changes are recorded, so that a first cycle
    // (every head new) cannot list faster than the database takes the builds.
    const slot = this.limiter.acquire(check.urgent);
    check.slot = slot;
    try {
      await slot.ready;
      check.listing = true;
      let listing: HeadListing;
      try {
        listing = await lister.listHeads(repo.location);
      } catch (err) {
        const message = toError(err).message;
        const retryInMs = state.backoff.fail(this.now(), message);
        if (state.backoff.failures === 1)
          logger.warn({ repo: repo.label, err: message, retryInMs }, 'cannot list branches; backing off');
        else
          logger.debug(
            { repo: repo.label, err: message, failures: state.backoff.failures, retryInMs },
            'still cannot list branches',
          );
        return { repo: repo.label, ok: false, jobs: [], error: message };
      }
      const failures = state.backoff.succeed();
      if (failures > 0) logger.info({ repo: repo.label, failures }, 'repository reachable again');
      if (listing.digest === state.digest) return { repo: repo.label, ok: true, jobs: [] };
      try {
        const jobs = await this.apply(state, listing.heads(), check.trigger);
        state.digest = listing.digest;
        if (this.storeFailing) {
          this.storeFailing = false;
          logger.info('recording release heads again');
        }
        return { repo: repo.label, ok: true, jobs };
      } catch (err) {
        const message = toError(err).message;
        // The digest is not kept, so the next check finds the same changes again.
        if (!this.storeFailing)
          logger.warn({ repo: repo.label, err: message }, 'cannot record release heads in the database; will retry');
        this.storeFailing = true;
        return { repo: repo.label, ok: false, jobs: [], error: message };
      }
    } finally {
      slot.release();
    }
  }

  private async apply(state: RepoState, heads: Heads, trigger: Trigger): Promise<BuildJob[]> {
    const { logger, store } = this.options;
    const { repo } = state;
    // Known heads come from the database each time something changed: memory
    // stays flat however many refs are watched, and two crawlers agree.
    const known = await store.loadHeads(repo.location);
    const changes = diffRefs(known, heads);
    for (const branch of changes.unsafe) {
      if (state.reported.has(branch)) continue;
      state.reported.add(branch);
      // Quoted by JSON so control characters show as escapes, never raw.
      logger.warn(
        { repo: repo.label, branch: JSON.stringify(branch) },
        'ignoring a branch whose name is not safe to use',
      );
    }
    if (!hasChanges(changes)) return [];
    const jobs = await store.record(repo.location, { moved: changes.moved, deleted: changes.deleted, trigger });
    for (const branch of changes.deleted) {
      logger.info({ repo: repo.label, branch }, 'release branch deleted (recorded, nothing to build)');
    }
    for (const job of jobs) {
      logger.info(
        { repo: repo.label, branch: job.branch, commit: job.commit, buildId: job.id, trigger },
        'new release head: build queued',
      );
    }
    if (jobs.length > 0) this.options.onJobs(jobs);
    return jobs;
  }

  private async run(): Promise<void> {
    const { logger, intervalMs } = this.options;
    while (this.running) {
      const started = this.now();
      try {
        const stats = await this.pollOnce();
        if (this.cycles === 1) logger.info(stats, 'first poll cycle done');
      } catch (err) {
        logger.error({ err: toError(err).message }, 'poll cycle failed');
      }
      const wait = Math.max(0, started + intervalMs - this.now());
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.stopWaiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.stopWaiting = null;
    }
  }
}
