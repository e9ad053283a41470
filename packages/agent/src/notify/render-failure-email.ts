import { formatDuration, redactRepo } from '@kiln/shared';
import { analysisLines } from './analysis-lines.js';
import { describeFailure } from './describe-failure.js';
import type { FailureEmailData } from './failure-email-data.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const MAX_SUBJECT_LENGTH = 200;

/**
 * The failure email, as plain text and HTML, from one build's rows. Pure: the
 * same data gives the same email. Everything from the build (branch, command,
 * log) is escaped in the HTML part, and the subject is one line of printable
 * characters.
 */
export function renderFailureEmail(data: FailureEmailData): RenderedEmail {
  const parts = renderFailureParts(data);
  return { subject: parts.subject, text: parts.text, html: htmlDocument(parts.subject, parts.htmlBody) };
}

/** The failure email's pieces, for the digest to reuse: its HTML without the document around it. */
export function renderFailureParts(data: FailureEmailData): { subject: string; text: string; htmlBody: string } {
  const what = describeFailure(data);
  const label = packageLabel(data);
  const subject = sanitizeSubject(`[kiln] ${label} ${what.headline}`);
  const logCommand = `kiln logs ${data.buildId}`;

  const fields: [string, string][] = [['Repository', redactRepo(data.repo)]];
  if (data.branch) fields.push(['Branch', data.branch]);
  if (data.commit) fields.push(['Commit', data.commit]);
  fields.push(['Build', data.attempt > 1 ? `${data.buildId} (attempt ${data.attempt})` : data.buildId]);
  if (what.stage) fields.push(['Failed stage', what.stage]);
  if (what.command) fields.push(['Failed command', what.command]);
  if (what.exitCode !== null) fields.push(['Exit code', String(what.exitCode)]);
  if (what.reason && what.reason !== `exited ${what.exitCode}`)
    fields.push([what.manifest ? 'Problem' : 'Reason', what.reason]);
  const duration = durationText(data);
  if (duration) fields.push(['Duration', duration]);
  if (data.pageUrl) fields.push(['Build page', data.pageUrl]);

  const stages = data.stages.map((s) => ({
    name: s.name,
    status: s.status,
    duration: s.durationMs === null || s.status === 'skipped' ? '' : formatDuration(s.durationMs),
    note: s.error ?? (s.exitCode !== null && s.exitCode !== 0 ? `exited ${s.exitCode}` : ''),
  }));
  const errorText = data.status === 'errored' && data.error ? data.error : null;
  const logHeading =
    data.logTail.length === 0 ? null : data.logTruncated ? `Last ${data.logTail.length} lines of the log:` : 'The log:';

  const analysis = analysisLines(data.analysis);
  return { subject, text: renderText(), htmlBody: renderHtml() };

  function renderText(): string {
    const out: string[] = [`${label} ${what.headline}`, ''];
    const width = Math.max(...fields.map(([k]) => k.length)) + 2;
    for (const [key, value] of fields) out.push(`${`${key}:`.padEnd(width)}${value}`);
    if (stages.length > 0) {
      out.push('', 'Stages:');
      const nameWidth = Math.max(...stages.map((s) => s.name.length)) + 2;
      for (const s of stages)
        out.push(`  ${s.name.padEnd(nameWidth)}${s.status.padEnd(11)}${s.duration.padEnd(9)}${s.note}`.trimEnd());
    }
    if (errorText)
      out.push('', what.manifest ? 'The manifest is invalid:' : 'Error:', ...indent(errorText.split('\n')));
    if (data.flags.length > 0)
      out.push('', 'The content policy flagged:', ...indent(data.flags.map((f) => `${f.path}: ${f.message}`)));
    if (analysis.length > 0) out.push('', 'Package analysis:', ...indent(analysis));
    if (logHeading) out.push('', logHeading, ...indent(data.logTail));
    out.push('', `The whole log: ${logCommand}`, '');
    return out.join('\n');
  }

  function renderHtml(): string {
    const e = escapeHtml;
    const rows = fields.map(
      ([k, v]) => `<tr><th align="left" style="padding-right:1em">${e(k)}</th><td><code>${e(v)}</code></td></tr>`,
    );
    const parts = [`<h2>${e(`${label} ${what.headline}`)}</h2>`, `<table>${rows.join('')}</table>`];
    if (stages.length > 0) {
      parts.push(
        '<h3>Stages</h3><table>',
        ...stages.map(
          (s) =>
            `<tr><td><code>${e(s.name)}</code></td><td>${e(s.status)}</td><td>${e(s.duration)}</td><td>${e(s.note)}</td></tr>`,
        ),
        '</table>',
      );
    }
    if (errorText)
      parts.push(`<h3>${what.manifest ? 'The manifest is invalid' : 'Error'}</h3><pre>${e(errorText)}</pre>`);
    if (data.flags.length > 0)
      parts.push(
        `<h3>The content policy flagged</h3><ul>${data.flags.map((f) => `<li><code>${e(f.path)}</code>: ${e(f.message)}</li>`).join('')}</ul>`,
      );
    if (analysis.length > 0)
      parts.push(`<h3>Package analysis</h3><ul>${analysis.map((l) => `<li>${e(l)}</li>`).join('')}</ul>`);
    if (logHeading)
      parts.push(
        `<h3>${e(logHeading.slice(0, -1))}</h3><pre style="background:#f6f6f6;padding:0.5em">${e(data.logTail.join('\n'))}</pre>`,
      );
    parts.push(`<p>The whole log: <code>${e(logCommand)}</code></p>`);
    return parts.join('\n');
  }
}

export function htmlDocument(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif">`,
    body,
    '</body></html>',
    '',
  ].join('\n');
}

/** `zlib-1.3.1`, else the branch, else the repository. */
export function packageLabel(
  data: Pick<FailureEmailData, 'packageName' | 'packageVersion' | 'branch' | 'repo'>,
): string {
  if (data.packageName && data.packageVersion) return `${data.packageName}-${data.packageVersion}`;
  return data.packageName ?? data.branch ?? redactRepo(data.repo);
}

// eslint-disable-next-line no-control-regex
const CONTROL_RUN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line of printable text: nothing in it can start a new header. */
export function sanitizeSubject(subject: string): string {
  const line = subject.replace(CONTROL_RUN, ' ').replace(/\s+/g, ' ').trim();
  return line.length > MAX_SUBJECT_LENGTH ? `${line.slice(0, MAX_SUBJECT_LENGTH - 1)}…` : line;
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function durationText(data: FailureEmailData): string | null {
  const parts: string[] = [];
  if (data.durationMs !== null) parts.push(formatDuration(data.durationMs));
  if (data.startedAt && data.finishedAt) parts.push(`(${utc(data.startedAt)} to ${utc(data.finishedAt)})`);
  else if (data.finishedAt) parts.push(`(finished ${utc(data.finishedAt)})`);
  return parts.length > 0 ? parts.join(' ') : null;
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function indent(lines: string[]): string[] {
  return lines.map((l) => `  ${l}`.trimEnd());
}
