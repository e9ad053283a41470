/**
 * The environment every git call of the crawler runs in. Remote locations are
 * validated before they get here; this is the second wall: git may speak only
 * ordinary transports (never `ext::` or `fd::`), and may never stop to ask a
 * person for a password or a host key, which would hang a poll forever.
 */
export const ALLOWED_GIT_PROTOCOLS = 'file:git:http:https:ssh';

export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    GIT_ALLOW_PROTOCOL: ALLOWED_GIT_PROTOCOLS,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/true',
    SSH_ASKPASS: '/bin/true',
    GIT_SSH_COMMAND: base.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes -o ConnectTimeout=10',
    LC_ALL: 'C',
  };
}
