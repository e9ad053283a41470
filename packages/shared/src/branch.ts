/**
 * Release branches are `<name>-<version>`: the version starts after the last
 * `-` that is followed by a digit (`python-dateutil-2.9.0` → `python-dateutil`
 * / `2.9.0`). Both parts are held to a strict character set, because they end
 * up in git arguments, container labels, SQL and email headers.
 */
export interface ReleaseBranch {
  name: string;
  version: string;
}

export const PACKAGE_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9+_]|[.-](?=[A-Za-z0-9+_]))*$/;
export const VERSION_PATTERN = /^[0-9](?:[A-Za-z0-9+~_]|[.-](?=[A-Za-z0-9+~_]))*$/;
export const MAX_BRANCH_LENGTH = 200;

export function parseReleaseBranch(branch: string): ReleaseBranch | null {
  if (branch.length === 0 || branch.length > MAX_BRANCH_LENGTH) return null;
  const split = lastHyphenBeforeDigit(branch);
  if (split <= 0) return null;
  const name = branch.slice(0, split);
  const version = branch.slice(split + 1);
  if (!PACKAGE_NAME_PATTERN.test(name) || !VERSION_PATTERN.test(version)) return null;
  return { name, version };
}

export function isValidPackageName(name: string): boolean {
  return name.length <= MAX_BRANCH_LENGTH && PACKAGE_NAME_PATTERN.test(name);
}

export function isValidVersion(version: string): boolean {
  return version.length <= MAX_BRANCH_LENGTH && VERSION_PATTERN.test(version);
}

function lastHyphenBeforeDigit(branch: string): number {
  for (let i = branch.length - 2; i >= 0; i--) {
    if (branch[i] === '-' && /[0-9]/.test(branch[i + 1] ?? '')) return i;
  }
  return -1;
}

/**
 * Any branch name that may be handed to git as a ref: git's own rules
 * (git-check-ref-format) plus no leading `-`, so it cannot read as an option.
 */
export function isSafeRefName(ref: string): boolean {
  if (ref.length === 0 || ref.length > 255) return false;
  if (ref.startsWith('-') || ref.startsWith('/') || ref.endsWith('/') || ref.endsWith('.')) return false;
  if (ref.endsWith('.lock') || ref.includes('..') || ref.includes('@{') || ref.includes('//')) return false;
  // No control characters, space, ~ ^ : ? * [ \ or anything a shell gives meaning to.
  return /^[A-Za-z0-9._/+-]+$/.test(ref) && !ref.split('/').some((part) => part.startsWith('.'));
}
