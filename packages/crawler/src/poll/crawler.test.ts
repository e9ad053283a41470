import { pino } from 'pino';
import type { BuildJob, Trigger } from '@kiln/shared';
import { headListing, type HeadLister, type HeadListing, type Heads } from '../git/ls-remote.js';
import type { ReleaseHead } from '../refs/ref-diff.js';
import type { RefStore } from '../refs/ref-store.js';
import { WatchList } from '../sources/watch-list.js';
import { Crawler } from './crawler.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const logger = pino({ level: 'silent' });

/** A git server whose answers the test controls, one listing at a time. */
class FakeServer implements HeadLister {
  heads: Heads = new Map();
  calls = 0;
  gate: Promise<void> | null = null;
  failWith: Error | null = null;
  async listHeads(): Promise<HeadListing> {
    this.calls++;
    const snapshot = [...this.heads].map(([branch, sha]) => `${sha}\trefs/heads/${branch}\n`).join('');
    await this.gate;
    if (this.failWith) throw this.failWith;
    return headListing(Buffer.from(snapshot));
  }
}

class MemoryStore implements RefStore {
  heads = new Map<string, string>();
  builds: Array<{ branch: string; commit: string; trigger: Trigger }> = [];
  async loadHeads(): Promise<Map<string, string>> {
    return new Map(this.heads);
  }
  async record(
    repo: string,
    change: { moved: ReleaseHead[]; deleted: string[]; trigger: Trigger },
  ): Promise<BuildJob[]> {
    for (const h of change.moved) {
      this.heads.set(h.branch, h.commit);
      this.builds.push({ branch: h.branch, commit: h.commit, trigger: change.trigger });
    }
    for (const d of change.deleted) this.heads.delete(d);
    return change.moved.map((h) => ({ repo, branch: h.branch, commit: h.commit }));
  }
}

function setup() {
  const server = new FakeServer();
  const store = new MemoryStore();
  const watchList = new WatchList({ repos: ['/srv/git/zlib.git'], logger });
  const crawler = new Crawler({
    watchList,
    lister: server,
    store,
    onJobs: () => {},
    logger,
    intervalMs: 60_000,
    concurrency: 4,
  });
  const repo = watchList.repos[0];
  if (!repo) throw new Error('no repo');
  return { server, store, crawler, repo };
}

test('a push during a listing is checked once more after it, with the trigger that announced it', async () => {
  const { server, store, crawler, repo } = setup();
  server.heads.set('zlib-1.3.1', A);
  let open: () => void = () => {};
  server.gate = new Promise((r) => (open = r));
  const polling = crawler.pollOnce();
  await new Promise((r) => setImmediate(r));
  // The poll is listing; now a hotfix lands and two webhooks announce it.
  server.heads.set('zlib-1.3.1', B);
  const hook1 = crawler.trigger(repo, 'webhook');
  const hook2 = crawler.trigger(repo, 'webhook');
  server.gate = null;
  open();
  await Promise.all([polling, hook1, hook2]);
  expect(server.calls).toBe(2);
  expect(store.builds).toEqual([
    { branch: 'zlib-1.3.1', commit: A, trigger: 'poll' },
    { branch: 'zlib-1.3.1', commit: B, trigger: 'webhook' },
  ]);
});

test('a failing repository backs off; a webhook still gets through; nothing is forgotten', async () => {
  const { server, store, crawler, repo } = setup();
  server.failWith = new Error('connection refused');
  expect(await crawler.pollOnce()).toMatchObject({ checked: 1, failed: 1 });
  expect(await crawler.pollOnce()).toMatchObject({ checked: 0, deferred: 1 });
  server.failWith = null;
  server.heads.set('zlib-1.3.1', A);
  expect(await crawler.trigger(repo, 'hook')).toMatchObject({
    ok: true,
    jobs: [expect.objectContaining({ commit: A })],
  });
  expect(await crawler.pollOnce()).toMatchObject({ checked: 1, builds: 0 });
  expect(store.builds).toHaveLength(1);
});
