import type { BuildDiff, InstalledFile, ManifestPolicy, PolicyFinding, UnresolvedNeed } from '@kiln/shared';

const LOST: Record<string, string> = {
  relro: 'RELRO',
  pie: 'PIE',
  bindNow: 'BIND_NOW',
  nxStack: 'its non-executable stack',
  runpath: 'no RUNPATH',
  static: 'dynamic linkage',
};

/** What the manifest's `policy:` makes of a build's files, needs and diff; every rule warns unless set to fail. */
export function policyFindings(
  files: readonly InstalledFile[],
  unresolved: readonly UnresolvedNeed[],
  diff: BuildDiff | null,
  policy: ManifestPolicy = {},
): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  const add = (rule: PolicyFinding['rule'], path: string | undefined, message: string) =>
    findings.push({ rule, level: policy[rule] ?? 'warn', ...(path ? { path } : {}), message });
  for (const need of unresolved) {
    add(
      'needs',
      need.files[0],
      `needs ${need.soname}, which no package and no build image provides (${need.files.join(', ')})`,
    );
  }
  for (const loss of diff?.hardeningLost ?? []) {
    add('hardening', loss.path, `${loss.path} lost ${LOST[loss.lost] ?? loss.lost} (${loss.before} → ${loss.after})`);
  }
  const dirs = packageDirs(files);
  for (const f of files) {
    if (f.setuid || f.setgid) add('setuid', f.path, `${f.path} is ${f.setuid ? 'setuid' : 'setgid'} (mode ${f.mode})`);
    const outside = (f.runpath ?? '').split(':').filter((p) => p !== '' && !insidePackage(p, dirs));
    if (outside.length > 0) add('runpath', f.path, `${f.path} has a RUNPATH outside the package: ${outside.join(':')}`);
    if (f.kind === 'executable' && f.linkage === 'static') add('static', f.path, `${f.path} is statically linked`);
  }
  return findings;
}

/** `$ORIGIN`-relative entries, and directories the package installs files in, are the package's own. */
function insidePackage(entry: string, dirs: ReadonlySet<string>): boolean {
  if (entry.startsWith('$ORIGIN') || entry.startsWith('${ORIGIN}')) return true;
  return dirs.has(entry.replace(/\/+$/, ''));
}

function packageDirs(files: readonly InstalledFile[]): Set<string> {
  const dirs = new Set<string>();
  for (const f of files) dirs.add(f.path.slice(0, f.path.lastIndexOf('/')));
  return dirs;
}
