import { createLogger, type BuildJob, type PhaseTiming } from '@kiln/shared';
import { AgentMetrics } from './agent-metrics.js';
import { noBuildEvents } from './build-events.js';
import type { RunOutcome } from './build-runner.js';
import type { AttemptRef, BuildResult, ClaimResult, JobWithId } from './store/index.js';
import type { JobDelivery } from './job-delivery.js';
import { JobHandler, type JobHandlerOptions } from './job-handler.js';

const ID = '3f2a91c0-1111-4222-8333-444455556666';
const logger = createLogger({ level: 'silent', pretty: false });

class FakeDelivery implements JobDelivery {
  readonly settled: string[] = [];
  private readonly timeline: string[];
  readonly deadLettered: string[] = [];
  readonly republished: Array<BuildJob & { id: string }> = [];
  readonly closer = new AbortController();
  readonly channelClosed = this.closer.signal;
  headers: Record<string, unknown> = {};
  /** `timeline`: a list shared with the fake store, to see settlements in order with its calls. */
  constructor(
    readonly body: Buffer,
    readonly previousDeliveries = 0,
    readonly messageId?: string,
    timeline: string[] = [],
  ) {
    this.timeline = timeline;
  }
  ack(): void {
    this.settled.push('ack');
    this.timeline.push('ack');
  }
  requeue(): void {
    this.settled.push('requeue');
    this.timeline.push('requeue');
  }
  async deadLetter(reason: string): Promise<void> {
    this.deadLettered.push(reason);
  }
  async republish(job: BuildJob & { id: string }): Promise<void> {
    this.republished.push(job);
  }
  readonly forwarded: Array<{ queue: string; job: BuildJob & { id: string } }> = [];
  async forward(queue: string, job: BuildJob & { id: string }): Promise<void> {
    this.forwarded.push({ queue, job });
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function setup(
  claims: ClaimResult[],
  outcome: RunOutcome | (() => RunOutcome) = { kind: 'abandoned' },
  options: { finishFailures?: number; deliveryLimit?: number } = {},
) {
  const calls: string[] = [];
  const finished: BuildResult[] = [];
  let finishFailures = options.finishFailures ?? 0;
  const store: JobHandlerOptions['store'] = {
    async ensureQueued(job: JobWithId) {
      calls.push(`ensure ${job.id}`);
    },
    async claim() {
      const next = claims.shift();
      if (!next) throw new Error('no more claims scripted');
      calls.push(`claim ${next.kind}`);
      return next;
    },
    async release(ref: AttemptRef) {
      calls.push(`release ${ref.attempt}`);
      return true;
    },
    async finish(_ref: AttemptRef, result: BuildResult) {
      if (finishFailures-- > 0) {
        calls.push('finish threw');
        throw new Error('connection terminated');
      }
      finished.push(result);
      calls.push(`finish ${result.report.status}`);
      return true;
    },
    async addPhases(_ref: AttemptRef, _origin: Date, phases: readonly PhaseTiming[]) {
      calls.push(`phases ${phases.map((p) => p.phase).join(',')}`);
    },
  };
  const removed: string[] = [];
  const handler = new JobHandler({
    agentId: 'agent-a',
    queue: 'build_queue',
    store,
    runner: { run: async () => (typeof outcome === 'function' ? outcome() : outcome) },
    engine: {
      async removeBuildResources(id: string) {
        removed.push(id);
        return 1;
      },
    },
    events: noBuildEvents,
    metrics: new AgentMetrics({ defaultMetrics: false }),
    logger,
    leaseMs: 45_000,
    deliveryLimit: options.deliveryLimit ?? 5,
    lifecycle: { stopping: false, shutdown: new AbortController().signal },
    retry: { initialMs: 1, maxMs: 2, jitter: 0 },
    busyPollMs: 1,
  });
  return { handler, calls, finished, removed };
}

const claimed = (attempt = 1): ClaimResult => ({
  kind: 'claimed',
  attempt,
  queuedAt: new Date(),
  startedAt: new Date(),
});
const succeeded: RunOutcome = {
  kind: 'result',
  result: {
    report: { status: 'succeeded', package: null, durationMs: 5, stages: [], install: null, error: null },
    manifest: null,
    commit: null,
    package: null,
  },
  cleanedUp: Promise.resolve(),
};

describe('JobHandler', () => {
  it('dead-letters a message that is not JSON, with the reason, and acks it', async () => {
    const { handler, calls } = setup([]);
    const delivery = new FakeDelivery(Buffer.from('{not json'));
    await handler.handle(delivery);
    expect(delivery.deadLettered[0]).toMatch(/^not valid JSON/);
    expect(delivery.settled).toEqual(['ack']);
    expect(calls).toEqual([]);
  });

  it('dead-letters a job with wrong types', async () => {
    const { handler } = setup([]);
    const delivery = new FakeDelivery(json({ repo: 42, branch: ['x'] }));
    await handler.handle(delivery);
    expect(delivery.deadLettered[0]).toMatch(/^not a BuildJob: repo/);
    expect(delivery.settled).toEqual(['ack']);
  });

  it('admits a minimal job: republishes it in full with an id, records it queued, then acks', async () => {
    const { handler, calls } = setup([]);
    const delivery = new FakeDelivery(json({ repo: '/srv/git/zlib.git', branch: 'zlib-1.3.1' }));
    await handler.handle(delivery);
    const full = delivery.republished[0];
    expect(full).toMatchObject({
      repo: '/srv/git/zlib.git',
      branch: 'zlib-1.3.1',
      trigger: 'manual',
      package: { name: 'zlib', version: '1.3.1' },
    });
    expect(full?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls).toEqual([`ensure ${full?.id}`]);
    expect(delivery.settled).toEqual(['ack']);
  });

  it('gives a redelivered minimal job with a message id the same build id', async () => {
    const first = setup([]);
    const second = setup([]);
    const a = new FakeDelivery(json({ repo: '/srv/git/x.git' }), 0, 'msg-7');
    const b = new FakeDelivery(json({ repo: '/srv/git/x.git' }), 1, 'msg-7');
    await first.handler.handle(a);
    await second.handler.handle(b);
    expect(a.republished[0]?.id).toBe(b.republished[0]?.id);
  });

  it('acks a duplicate delivery of a finished build without building', async () => {
    const { handler, calls } = setup([{ kind: 'finished', status: 'succeeded' }]);
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }));
    await handler.handle(delivery);
    expect(calls).toEqual([`ensure ${ID}`, 'claim finished']);
    expect(delivery.settled).toEqual(['ack']);
  });

  it('waits for a build a live attempt holds, and builds nothing twice', async () => {
    const { handler, calls } = setup([
      { kind: 'busy', agent: 'agent-b', attempt: 1, leaseExpiresAt: new Date(Date.now() + 10_000) },
      { kind: 'busy', agent: 'agent-b', attempt: 1, leaseExpiresAt: new Date(Date.now() + 10_000) },
      { kind: 'finished', status: 'failed' },
    ]);
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }), 1);
    await handler.handle(delivery);
    expect(calls.filter((c) => c.startsWith('claim'))).toEqual(['claim busy', 'claim busy', 'claim finished']);
    expect(delivery.settled).toEqual(['ack']);
  });

  it("removes a dead attempt's resources before a second attempt, then records and acks", async () => {
    const { handler, calls, removed } = setup([claimed(2)], succeeded);
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }), 1);
    await handler.handle(delivery);
    expect(removed).toEqual([ID]);
    expect(calls).toEqual([`ensure ${ID}`, 'claim claimed', 'finish succeeded', 'phases record,ack']);
    expect(delivery.settled).toEqual(['ack']);
  });

  it('keeps the message unacknowledged until the database takes the result', async () => {
    const { handler, calls } = setup([claimed()], succeeded, { finishFailures: 3 });
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }), 0, undefined, calls);
    await handler.handle(delivery);
    // One timeline of store calls and settlements: three writes fail, the fourth commits, then the ack
    // (the phase timings are recorded after it, in the background).
    expect(calls.filter((c) => !c.startsWith('phases'))).toEqual([
      `ensure ${ID}`,
      'claim claimed',
      'finish threw',
      'finish threw',
      'finish threw',
      'finish succeeded',
      'ack',
    ]);
  });

  it('acks a failed build only after its result (and so its email) is written', async () => {
    const failed: RunOutcome = {
      kind: 'result',
      result: {
        report: { status: 'failed', package: null, durationMs: 5, stages: [], install: null, error: 'exit 3' },
        manifest: null,
        commit: null,
        package: null,
      },
      cleanedUp: Promise.resolve(),
    };
    const { handler, calls } = setup([claimed()], failed, { finishFailures: 1 });
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }), 0, undefined, calls);
    await handler.handle(delivery);
    expect(calls.filter((c) => !c.startsWith('phases')).slice(-3)).toEqual(['finish threw', 'finish failed', 'ack']);
  });

  it('gives a build that hit an infrastructure failure back to the queue', async () => {
    const { handler, calls } = setup([claimed()], { kind: 'retry', error: new Error('Docker is not running') });
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }));
    await handler.handle(delivery);
    expect(calls).toEqual([`ensure ${ID}`, 'claim claimed', 'release 1']);
    expect(delivery.settled).toEqual(['requeue']);
  });

  it('records the build errored on its last delivery instead of requeueing it again', async () => {
    const { handler, finished } = setup(
      [claimed(3)],
      { kind: 'retry', error: new Error('Docker is not running') },
      { deliveryLimit: 2 },
    );
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }), 2);
    await handler.handle(delivery);
    expect(finished[0]?.report).toMatchObject({
      status: 'errored',
      error: 'gave up after 3 deliveries: Docker is not running',
    });
    expect(delivery.settled).toEqual(['ack']);
  });

  it('requeues without recording when the build was stopped by shutdown', async () => {
    const { handler, calls } = setup([claimed()], { kind: 'abandoned' });
    const delivery = new FakeDelivery(json({ id: ID, repo: '/srv/git/x.git' }));
    await handler.handle(delivery);
    expect(calls).toEqual([`ensure ${ID}`, 'claim claimed', 'release 1']);
    expect(delivery.settled).toEqual(['requeue']);
  });
});
