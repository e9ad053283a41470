/** Why a repository may not build a package, and what an operator can do about it. */
export function ownershipRefusal(name: string, repo: string, owners: readonly string[]): string {
  const list = owners.length === 1 ? owners[0] : owners.join(', ');
  return (
    `package "${name}" belongs to ${list}; this repository (${repo}) may not build it ` +
    `(an operator can share it: kiln owner add ${name} <repository>)`
  );
}
