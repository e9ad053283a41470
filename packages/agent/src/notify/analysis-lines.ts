import { describeChanges, type BuildAnalysis } from '@kiln/shared';

/** What the analysis of a build says, as lines for an email (empty when there is nothing to say). */
export function analysisLines(analysis: BuildAnalysis | null | undefined): string[] {
  if (!analysis) return [];
  const lines: string[] = [];
  if (analysis.changes) lines.push(`Changes: ${describeChanges(analysis.changes)}`);
  for (const need of analysis.unresolved) {
    lines.push(`Unresolved: ${need.soname}, needed by ${need.files.join(', ')}`);
  }
  for (const finding of analysis.findings) {
    if (finding.rule !== 'needs') lines.push(`Policy (${finding.level}): ${finding.message}`);
  }
  return lines;
}
