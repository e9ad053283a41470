import { gitEnvironment } from '@kiln/shared';
import { simpleGit, type SimpleGit } from 'simple-git';

/**
 * simple-git with its refusal of unsafe options kept on, except the one
 * category our own fixed GIT_SSH_COMMAND needs: nothing from a job ever
 * reaches the environment or a `-c` option, and job values reach git only as
 * validated positional arguments after `--`.
 */
export function createGitClient(options: {
  baseDir?: string;
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}): SimpleGit {
  const env = gitEnvironment(options.env);
  return simpleGit({
    baseDir: options.baseDir,
    timeout: { block: options.timeoutMs },
    abort: options.signal,
    // Exactly the git variables set above, by us: simple-git's guard refuses any other.
    allowEnvironment: Object.keys(env).filter((key) => key.startsWith('GIT_') || key === 'SSH_ASKPASS'),
    // Our own fixed GIT_SSH_COMMAND and GIT_ASKPASS (/bin/true: never prompt), not anything from a job.
    unsafe: { allowUnsafeSshCommand: true, allowUnsafeAskPass: true },
  }).env(env);
}
