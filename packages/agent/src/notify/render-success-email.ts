import { formatDuration, formatSize, redactRepo } from '@kiln/shared';
import { analysisLines } from './analysis-lines.js';
import type { FailureEmailData } from './failure-email-data.js';
import { escapeHtml, htmlDocument, packageLabel, sanitizeSubject, type RenderedEmail } from './render-failure-email.js';

/** A build that worked, for the repositories that asked to hear so. */
export interface SuccessEmailData extends Omit<FailureEmailData, 'logTail' | 'logTruncated'> {
  installed: { sizeBytes: number; fileCount: number; artifact: string | null } | null;
}

export function renderSuccessEmail(data: SuccessEmailData): RenderedEmail {
  const label = packageLabel(data);
  const took = data.durationMs === null ? '' : ` in ${formatDuration(data.durationMs)}`;
  const headline = `${label} built${took}`;
  const subject = sanitizeSubject(`[kiln] ${headline}`);
  const fields: [string, string][] = [['Repository', redactRepo(data.repo)]];
  if (data.branch) fields.push(['Branch', data.branch]);
  if (data.commit) fields.push(['Commit', data.commit]);
  fields.push(['Build', data.buildId]);
  if (data.installed) {
    fields.push(['Installed', `${data.installed.fileCount} files, ${formatSize(data.installed.sizeBytes)}`]);
    if (data.installed.artifact) fields.push(['Artifact', data.installed.artifact]);
  }
  const stages = data.stages.map(
    (s) => `${s.name} ${s.status}${s.durationMs === null ? '' : ` ${formatDuration(s.durationMs)}`}`,
  );
  const analysis = analysisLines(data.analysis);
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  const text = [
    headline,
    '',
    ...fields.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`),
    ...(stages.length > 0 ? ['', 'Stages:', ...stages.map((s) => `  ${s}`)] : []),
    ...(analysis.length > 0 ? ['', 'Package analysis:', ...analysis.map((l) => `  ${l}`)] : []),
    '',
    `The whole log: kiln logs ${data.buildId}`,
    '',
  ].join('\n');
  const e = escapeHtml;
  const html = htmlDocument(
    subject,
    [
      `<h2>${e(headline)}</h2>`,
      `<table>${fields.map(([k, v]) => `<tr><th align="left" style="padding-right:1em">${e(k)}</th><td><code>${e(v)}</code></td></tr>`).join('')}</table>`,
      ...(stages.length > 0 ? ['<h3>Stages</h3><ul>', ...stages.map((s) => `<li>${e(s)}</li>`), '</ul>'] : []),
      ...(analysis.length > 0
        ? ['<h3>Package analysis</h3><ul>', ...analysis.map((l) => `<li>${e(l)}</li>`), '</ul>']
        : []),
      `<p>The whole log: <code>${e(`kiln logs ${data.buildId}`)}</code></p>`,
    ].join('\n'),
  );
  return { subject, text, html };
}
