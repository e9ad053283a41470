/**
 * What the agent's mirror cache buys: checkouts of release branches from a
 * repository with history, against a plain `git clone --depth 1 --branch` per
 * build (what an agent without a cache does), measured in the same run. Real
 * git over file:// (packs go through upload-pack, as from a server).
 *
 *   npx tsx bench/agent-checkout.ts        BENCH_COMMITS=300 BENCH_FILES=3000 BENCH_ROUNDS=5
 *
 * Goal: from the second build of a repository on, a checkout costs well under
 * the plain clone (the mirror has the history; only the commit is copied).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '@kiln/shared';
import { createGitCheckout } from '@kiln/agent';

const run = promisify(execFile);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 300);
const FILES = Number(process.env.BENCH_FILES ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@example.org',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@example.org',
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', args, { cwd, env, maxBuffer: 1 << 26 })).stdout.trim();
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const root = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-checkout-'));
try {
  const work = path.join(root, 'work');
  const bare = path.join(root, 'pkg.git');
  await mkdir(work);
  await git(work, 'init', '--quiet', '--initial-branch=main');
  for (let i = 0; i < FILES; i++) {
    await mkdir(path.join(work, `d${i % 50}`), { recursive: true });
    await writeFile(path.join(work, `d${i % 50}`, `f${i}.c`), randomBytes(2048).toString('base64'));
  }
  await git(work, 'add', '-A');
  await git(work, 'commit', '--quiet', '-m', 'import');
  for (let c = 0; c < COMMITS; c++) {
    await writeFile(path.join(work, `d${c % 50}`, `f${c % FILES}.c`), randomBytes(2048).toString('base64'));
    await git(work, 'commit', '--quiet', '-am', `change ${c}`);
  }
  await git(root, 'clone', '--quiet', '--bare', work, bare);
  const url = `file://${bare}`;

  const checkout = createGitCheckout({
    cacheDir: path.join(root, 'cache'),
    timeoutMs: 120_000,
    logger: createLogger({ level: 'silent', pretty: false }),
  });
  const plain: number[] = [];
  const cached: number[] = [];
  let first = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    // A new release branch each round, as a maintainer pushes one.
    await writeFile(path.join(work, 'VERSION'), `${round}\n`);
    await git(work, 'add', 'VERSION');
    await git(work, 'commit', '--quiet', '-m', `release ${round}`);
    const branch = `pkg-1.${round}`;
    await git(work, 'push', '--quiet', bare, `HEAD:refs/heads/${branch}`);
    const a = path.join(root, `plain-${round}`);
    const b = path.join(root, `kiln-${round}`);
    plain.push(await timed(() => git(root, 'clone', '--quiet', '--depth', '1', '--branch', branch, '--', url, a)));
    const took = await timed(() => checkout.checkout({ repo: url, branch }, b));
    if (round === 0) first = took;
    else cached.push(took);
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
  const base = median(plain);
  console.log(`repository: ${FILES} files, ${COMMITS + 1} commits; ${ROUNDS} release branches after the first`);
  console.log(`plain shallow clone per build (baseline): median ${base.toFixed(0)} ms`);
  console.log(
    `kiln, first build (mirror clone + shallow fetch): ${first.toFixed(0)} ms  (${(first / base).toFixed(2)}x baseline)`,
  );
  console.log(
    `kiln, later builds (fetch into mirror + shallow fetch): median ${median(cached).toFixed(0)} ms  (${(median(cached) / base).toFixed(2)}x baseline)`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
