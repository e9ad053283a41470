import { createHmac, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { publishJob } from '../agent-fixtures.js';
import { git } from '../git.js';
import type { SeededRandom } from '../seeded-random.js';
import type { Farm } from './farm.js';

const run = promisify(execFile);

/** One job the run asked for, and what its result must be. */
export interface SubmittedJob {
  /** `<name>-<version>`: unique in a run, so it names the job. */
  branch: string;
  repo: string;
  via: 'push' | 'webhook' | 'drop';
  outcome: 'succeeded' | 'failed';
}

export const MAINTAINER = 'chaos@example.org';

/** One tiny stage: `true`, or `exit 3` for a job meant to fail (and to email its maintainer). */
function manifest(fail: boolean): string {
  return [
    'image: kiln/busybox:latest',
    'package:',
    `  maintainer: Chaos Maintainer <${MAINTAINER}>`,
    'stages: [build]',
    'build:',
    `  script: ["${fail ? 'exit 3' : 'true'}"]`,
    '',
  ].join('\n');
}

export interface Repo {
  name: string;
  bare: string;
  main: string;
  trees: { ok: string; fail: string };
}

async function gitInput(cwd: string, args: string[], input: string): Promise<string> {
  const child = run('git', args, { cwd });
  child.child.stdin?.end(input);
  return (await child).stdout.trim();
}

/** A bare repository made with git's plumbing: two trees (passing and failing manifest) to branch from. */
export async function makeRepo(root: string, name: string): Promise<Repo> {
  const bare = path.join(root, `${name}.git`);
  await mkdir(bare);
  await git(bare, 'init', '--bare', '--quiet', '--initial-branch=main');
  const tree = async (text: string) => {
    const blob = await gitInput(bare, ['hash-object', '-w', '--stdin'], text);
    return gitInput(bare, ['mktree'], `100644 blob ${blob}\t.kiln.yml\n`);
  };
  const trees = { ok: await tree(manifest(false)), fail: await tree(manifest(true)) };
  const main = await git(bare, 'commit-tree', trees.ok, '-m', 'initial');
  await git(bare, 'update-ref', 'refs/heads/main', main);
  return { name, bare, main, trees };
}

/**
 * The jobs of a run, drawn from the seed: several packages, a mix of
 * successes and failures, arriving as plain pushes (the crawler's poll finds
 * them), pushes announced by a signed webhook, and JSON drops (the minimal
 * job, published straight to the queue, for repositories no crawler watches).
 */
export class Workload {
  readonly submitted: SubmittedJob[] = [];
  private constructor(
    private readonly farm: Farm,
    private readonly random: SeededRandom,
    private readonly watched: Repo[],
    private readonly dropped: Repo[],
  ) {}

  static async create(farm: Farm, random: SeededRandom, packages = 4): Promise<Workload> {
    const names = ['ember', 'flint', 'glaze', 'slip', 'grog', 'frit'].slice(0, Math.max(2, packages));
    const watched = await Promise.all(names.map((n) => makeRepo(farm.repoRoot, n)));
    const dropped = await Promise.all(['dropa', 'dropb'].map((n) => makeRepo(farm.dropRoot, n)));
    return new Workload(farm, random, watched, dropped);
  }

  /** Submits job number `n`. A submission that fails (crawler or broker away) is tried again, as a user would. */
  async submit(n: number): Promise<SubmittedJob> {
    const roll = this.random.between(1, 100);
    const via = roll <= 55 ? 'push' : roll <= 80 ? 'webhook' : 'drop';
    const fail = this.random.between(1, 100) <= 30;
    const pool = via === 'drop' ? this.dropped : this.watched;
    const repo = pool[this.random.between(0, pool.length - 1)]!;
    const branch = `${repo.name}-1.${n}`;
    const job: SubmittedJob = { branch, repo: repo.bare, via, outcome: fail ? 'failed' : 'succeeded' };
    const commit = await git(
      repo.bare,
      'commit-tree',
      fail ? repo.trees.fail : repo.trees.ok,
      '-p',
      repo.main,
      '-m',
      `job ${n}`,
    );
    await git(repo.bare, 'update-ref', `refs/heads/${branch}`, commit);
    this.submitted.push(job);
    if (via === 'webhook') await this.webhook(repo);
    if (via === 'drop') await this.drop(repo, branch);
    return job;
  }

  /** A signed push webhook; a crawler that is down misses it, and its poll finds the branch anyway. */
  private async webhook(repo: Repo): Promise<void> {
    const body = JSON.stringify({ ref: 'refs/heads/x', repository: { clone_url: `file://${repo.bare}` } });
    const signature = createHmac('sha256', this.farm.webhookSecret).update(body).digest('hex');
    await fetch(this.farm.webhookUrl, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${signature}`,
      },
      signal: AbortSignal.timeout(5_000),
    }).catch(() => undefined);
  }

  /** The minimal job, with a message id so that a redelivery names the same build. */
  private async drop(repo: Repo, branch: string): Promise<void> {
    const messageId = `chaos-${branch}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await publishJob(this.farm.rabbit.url, { repo: repo.bare, branch }, { messageId });
        return;
      } catch (err) {
        if (attempt >= 120) throw err;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
}
