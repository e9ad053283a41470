import { describeChanges, type BuildAnalysis } from '@kiln/shared';
import { escapeCell } from '../terminal-text.js';

/** `kiln status <build>`: what it provides, needs nothing provides, what the policy found, what changed, what static executables embed. */
export function analysisText(buildId: string, a: BuildAnalysis): string[] {
  const lines: string[] = [];
  if (a.provides.length > 0) lines.push(`provides  ${a.provides.map(escapeCell).join(' ')}`);
  if (a.unresolved.length > 0) {
    lines.push(`unresolved ${a.unresolved.length} needed libraries no package or build image provides`);
    for (const n of a.unresolved)
      lines.push(`  ${escapeCell(n.soname)}  needed by ${n.files.map(escapeCell).join(', ')}`);
  }
  for (const f of a.findings.filter((x) => x.rule !== 'needs'))
    lines.push(`policy    ${f.level}: ${escapeCell(f.message)}`);
  if (a.staticBuiltUsing?.length)
    lines.push(
      `embeds    ${a.staticBuiltUsing.map((x) => escapeCell(`${x.name} (= ${x.version})`)).join(', ')} (static executables)`,
    );
  if (a.changes) lines.push(`changes   ${escapeCell(describeChanges(a.changes))} (kiln diff ${buildId})`);
  return lines;
}
