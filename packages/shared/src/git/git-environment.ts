/**
 * The environment every git call of Kiln runs in (crawler and agent alike).
 * Remote locations are validated before they get here; this is the second
 * wall: git may speak only ordinary transports (never `ext::` or `fd::`, and
 * not plain `http`, where anyone on the path could change the code we build),
 * and may never stop to ask a person for a password or a host key, which
 * would hang a poll or a build forever.
 */
export const GIT_ALLOWED_PROTOCOLS = ['file', 'git', 'https', 'ssh'] as const;

// Variables passed through from Kiln's own environment: what git needs to
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
    // Never ask anyone anything: a call that needs credentials it does not have fails at once.
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/true',
    SSH_ASKPASS: '/bin/true',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=15',
    GIT_ALLOW_PROTOCOL: GIT_ALLOWED_PROTOCOLS.join(':'),
    GIT_CONFIG_NOSYSTEM: '1',
  };
}
