import type { InstalledFile, PolicyFlag } from '@kiln/shared';

/**
 * The default content policy: what a package should not install without a
 * person looking. Each rule flags; the manifest's `policy: {content: fail}`
 * or the operator's KILN_CONTENT_POLICY=fail turns flags into a failure.
 */
const ACCOUNT_FILES = /^\/etc\/(passwd|shadow|group|gshadow|sudoers)(-|\.d\/.*)?$/;
const SCHEDULER_FILES = /^\/(etc\/cron[^/]*|etc\/anacrontab|var\/spool\/cron)(\/.*)?$/;

/** Files of the build image whose content must never be shipped, even under another name. */
export const SENSITIVE_IMAGE_FILES = ['/etc/shadow', '/etc/gshadow', '/etc/sudoers'];
export const SENSITIVE_IMAGE_PATTERN = /^\/etc\/ssh\/ssh_host_[a-z0-9]+_key$/;

export interface PolicyInput {
  files: readonly InstalledFile[];
  /** Device nodes and fifos the install made (never package files). */
  special: ReadonlyArray<{ path: string; type: string }>;
  /** sha256 → path of the image's sensitive files. */
  sensitive: ReadonlyMap<string, string>;
}

export function checkContent(input: PolicyInput): PolicyFlag[] {
  const flags: PolicyFlag[] = [];
  for (const file of input.files) {
    const mode = Number.parseInt(file.mode, 8);
    if (file.kind !== 'symlink' && mode & 0o4000) {
      flags.push({ path: file.path, rule: 'setuid', message: 'is setuid: it runs as its owner, whoever starts it' });
    }
    if (file.kind !== 'symlink' && mode & 0o2000) {
      flags.push({ path: file.path, rule: 'setgid', message: 'is setgid: it runs with its group, whoever starts it' });
    }
    if (ACCOUNT_FILES.test(file.path)) {
      flags.push({ path: file.path, rule: 'account-file', message: 'replaces a file of user accounts or sudo rights' });
    }
    if (SCHEDULER_FILES.test(file.path)) {
      flags.push({ path: file.path, rule: 'scheduled-job', message: 'installs a cron job or replaces cron files' });
    }
    const copied = file.sha256 ? input.sensitive.get(file.sha256) : undefined;
    if (copied && copied !== file.path) {
      flags.push({ path: file.path, rule: 'sensitive-copy', message: `has the same content as the image's ${copied}` });
    }
  }
  for (const node of input.special) {
    flags.push({ path: node.path, rule: 'device', message: `is a ${node.type}: packages install files, not devices` });
  }
  return flags.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.rule < b.rule ? -1 : 1));
}
