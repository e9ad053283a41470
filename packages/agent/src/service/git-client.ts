import { simpleGit, type SimpleGit } from 'simple-git';

/**
 * The protocols git may use, for the clone and for any redirect or
 * submodule it meets: plain `http` is left out on purpose (anyone on the path
 * could change the code we build).
 */
export const GIT_ALLOWED_PROTOCOLS = ['file', 'git', 'https', 'ssh'] as const;

// Variables passed through from the agent's environment: what git needs to
// find its keys, proxies and CA certificates, and nothing that could prompt.
const PASS_THROUGH = [
  'PATH',
  'HOME',
  'USER',
  'SSH_AUTH_SOCK',
  'HTTPS_PROXY',
  'https_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
  'GIT_SSL_CAINFO',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'TMPDIR',
];

export function gitEnvironment(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of PASS_THROUGH) {
    const value = env[key];
    if (value !== undefined) out[key] = value;
  }
  return {
    ...out,
    LC_ALL: 'C',
    // Never ask anyone anything: a clone that needs credentials it does not have fails at once.
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=15',
    GIT_ALLOW_PROTOCOL: GIT_ALLOWED_PROTOCOLS.join(':'),
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

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
    allowEnvironment: Object.keys(env).filter((key) => key.startsWith('GIT_')),
    unsafe: { allowUnsafeSshCommand: true },
  }).env(env);
}
