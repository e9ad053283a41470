import { spawn } from 'node:child_process';
import { redactUrlsIn } from '../repo-url.js';
import { gitEnvironment } from './git-environment.js';
import { GitCommandError } from './git-error.js';

/**
 * The one way Kiln runs git (crawler, agent and CLI): no shell, the fixed
 * environment of gitEnvironment(), its own process group so that a timeout
 * or an abort kills what git spawned too (upload-pack, ssh, a credential
 * helper), a cap on output, errors as one redacted line, and options that
 * could run a program refused (values from a job reach git only as
 * positional arguments after `--`).
 */
export interface RunGitOptions {
  timeoutMs: number;
  /** Refuse output larger than this (a hostile server could send gigabytes). */
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
  /** The working directory (a repository or a workspace). */
  cwd?: string;
  signal?: AbortSignal;
}

/**
 * Options that make git run a program or read a configuration of someone
 * else's choosing: what simple-git refuses by default, refused here too
 * before the `--` that starts the positional arguments.
 */
const UNSAFE_OPTION =
  /^(-c|--config(-env)?|--upload-pack|--receive-pack|--exec|-u|--template|--ext-diff|-o|--server-option)(=|$)/;

export function assertSafeGitArgs(args: readonly string[]): void {
  const end = args.indexOf('--');
  for (const arg of end < 0 ? args : args.slice(0, end)) {
    if (UNSAFE_OPTION.test(arg)) throw new GitCommandError(`refusing the git option ${arg.split('=')[0]}`, 'unsafe');
  }
}

/** Runs git and returns its stdout as text. */
export async function runGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  return (await runGitBuffer(args, options)).toString('utf8');
}

/** Runs git and returns its stdout as bytes. */
export async function runGitBuffer(args: readonly string[], options: RunGitOptions): Promise<Buffer> {
  assertSafeGitArgs(args);
  const maxBytes = options.maxOutputBytes ?? 64 * 1024 * 1024;
  const what = args.find((a) => !a.startsWith('-')) ?? '';
  if (options.signal?.aborted) throw new GitCommandError(`git ${what} aborted`, 'aborted');
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: options.env ?? gitEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let errText = '';
    let failure: GitCommandError | null = null;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      failure = new GitCommandError(`git ${what} timed out after ${options.timeoutMs} ms`, 'timeout');
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      failure ??= new GitCommandError(`git ${what} aborted`, 'aborted');
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxBytes) {
        failure ??= new GitCommandError(`git printed more than ${maxBytes} bytes`, 'output');
        killGroup();
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errText = (errText + chunk.toString('utf8')).slice(-4096);
    });
    child.on('error', (err) => {
      settle();
      reject(new GitCommandError(`cannot run git: ${err.message}`, 'spawn', { cause: err }));
    });
    child.on('close', (code, signal) => {
      settle();
      if (failure) return reject(failure);
      if (code === 0) return resolve(out.length === 1 && out[0] ? out[0] : Buffer.concat(out));
      reject(new GitCommandError(redactUrlsIn(gitReason(errText, code ?? signal).slice(0, 500)), 'exit'));
    });
  });
}

/**
 * The reason in git's error output: its first `fatal:` or `error:` line (what
 * follows is advice such as "Please make sure you have the correct access
 * rights and the repository exists."), else its last line.
 */
export function gitReason(stderr: string, exit: number | string | null): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const reason = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.at(-1);
  return reason ? reason.replace(/^(fatal|error):\s*/, '') : `git exited with ${exit}`;
}
