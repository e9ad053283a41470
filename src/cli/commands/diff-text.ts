import { formatSize, type BuildDiff } from '@kiln/shared';

/** `kiln diff` for people: one section per kind of change, empty ones left out. */
export function diffText(diff: BuildDiff): string {
  const lines: string[] = [];
  const { files } = diff;
  lines.push(
    `build ${diff.build} (${diff.versions.after ?? '?'}) against ${diff.against} (${diff.versions.before ?? '?'}, ${diff.basis})`,
    `files: ${files.changed.length} changed, ${files.added.length} added, ${files.removed.length} removed, ${files.unchanged} unchanged`,
    `size: ${formatSize(diff.sizeBytes.before)} -> ${formatSize(diff.sizeBytes.after)} (${signed(diff.sizeBytes.change)} bytes)`,
  );
  for (const f of files.changed) {
    lines.push(
      `  ~ ${f.path}  ${f.sizeBefore} -> ${f.sizeAfter} bytes  ${short(f.sha256Before)} -> ${short(f.sha256After)}`,
    );
  }
  for (const f of files.added) lines.push(`  + ${f.path}  ${f.size} bytes  ${short(f.sha256)}`);
  for (const f of files.removed) lines.push(`  - ${f.path}  ${f.size} bytes  ${short(f.sha256)}`);
  if (diff.abiChange) {
    lines.push(
      `ABI change: provides ${[...diff.provides.removed.map((s) => `-${s}`), ...diff.provides.added.map((s) => `+${s}`)].join(' ')}`,
    );
  }
  for (const k of diff.kinds) lines.push(`kind: ${k.path} ${k.before} -> ${k.after}`);
  for (const l of diff.linkage) {
    const needed = [...l.neededRemoved.map((n) => `-${n}`), ...l.neededAdded.map((n) => `+${n}`)].join(' ');
    lines.push(`linkage: ${l.path} ${l.before ?? '-'} -> ${l.after ?? '-'}${needed ? ` needed ${needed}` : ''}`);
  }
  for (const h of diff.hardeningLost) lines.push(`hardening lost: ${h.path} ${h.lost} ${h.before} -> ${h.after}`);
  for (const c of diff.commands) lines.push(`time: [${c.stage}] ${c.command}  ${c.beforeMs} ms -> ${c.afterMs} ms`);
  return `${lines.join('\n')}\n`;
}

function short(sha256: string | undefined): string {
  return sha256 ? sha256.slice(0, 12) : '-';
}

function signed(n: number): string {
  return n >= 0 ? `+${n}` : String(n);
}
