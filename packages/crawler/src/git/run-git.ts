import { spawn } from 'node:child_process';
import { gitEnvironment, redactUrlsIn } from '@kiln/shared';
import { GitCommandError } from './git-error.js';

export interface RunGitOptions {
  timeoutMs: number;
  /** Refuse output larger than this (a hostile server could send gigabytes). */
  maxOutputBytes?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs git without a shell and returns its stdout as text. */
export async function runGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  return (await runGitBuffer(args, options)).toString('utf8');
}

/**
 * Runs git without a shell and returns its stdout as bytes. git runs in its own
 * process group so a timeout kills what it spawned too (upload-pack, ssh,
 * a credential helper), not just git itself.
 */
export async function runGitBuffer(args: readonly string[], options: RunGitOptions): Promise<Buffer> {
  const maxBytes = options.maxOutputBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      env: options.env ?? gitEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
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
      failure = new GitCommandError(
        `git ${args.find((a) => !a.startsWith('-')) ?? ''} timed out after ${options.timeoutMs} ms`,
        'timeout',
      );
      killGroup();
    }, options.timeoutMs);
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
      clearTimeout(timer);
      reject(new GitCommandError(`cannot run git: ${err.message}`, 'spawn', { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
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
