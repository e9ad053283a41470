import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Maintainer',
  GIT_AUTHOR_EMAIL: 'maintainer@example.org',
  GIT_COMMITTER_NAME: 'Test Maintainer',
  GIT_COMMITTER_EMAIL: 'maintainer@example.org',
  GIT_CONFIG_NOSYSTEM: '1',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * A real git server in a temp dir: a bare repository ("the server") and a
 * work tree that pushes to it ("the maintainer").
 */
export interface TestRepo {
  /** The bare repository: what Kiln clones and watches. */
  bare: string;
  work: string;
  /** Commits `files` on a branch (created from the default branch if new) and pushes it. Returns the commit id. */
  pushBranch(branch: string, files: Record<string, string>, message?: string): Promise<string>;
  deleteBranch(branch: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function createTestRepo(options: { root?: string; name?: string } = {}): Promise<TestRepo> {
  const root = options.root ?? (await mkdtemp(path.join(os.tmpdir(), 'kiln-git-')));
  const name = options.name ?? 'pkg';
  const bare = path.join(root, `${name}.git`);
  const work = await mkdtemp(path.join(os.tmpdir(), 'kiln-work-'));
  await mkdir(bare, { recursive: true });
  await git(bare, 'init', '--bare', '--quiet', '--initial-branch=main');
  await git(work, 'init', '--quiet', '--initial-branch=main');
  await writeFile(path.join(work, 'README'), `${name}\n`);
  await git(work, 'add', '-A');
  await git(work, 'commit', '--quiet', '-m', 'initial');
  await git(work, 'remote', 'add', 'origin', bare);
  await git(work, 'push', '--quiet', 'origin', 'main');

  return {
    bare,
    work,
    async pushBranch(branch, files, message = `update ${branch}`) {
      const exists = await git(work, 'branch', '--list', branch);
      await git(work, 'checkout', '--quiet', ...(exists ? [branch] : ['-b', branch, 'main']));
      for (const [file, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(work, file)), { recursive: true });
        await writeFile(path.join(work, file), content);
      }
      await git(work, 'add', '-A');
      await git(work, 'commit', '--quiet', '--allow-empty', '-m', message);
      await git(work, 'push', '--quiet', '--force', 'origin', `refs/heads/${branch}:refs/heads/${branch}`);
      const sha = await git(work, 'rev-parse', 'HEAD');
      await git(work, 'checkout', '--quiet', 'main');
      return sha;
    },
    async deleteBranch(branch) {
      await git(work, 'push', '--quiet', 'origin', '--delete', branch);
    },
    async [Symbol.asyncDispose]() {
      await rm(work, { recursive: true, force: true });
      if (!options.root) await rm(root, { recursive: true, force: true });
      else await rm(bare, { recursive: true, force: true });
    },
  };
}
