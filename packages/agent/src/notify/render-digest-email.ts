import { describeFailure } from './describe-failure.js';
import type { DigestEmailData } from './digest-email-data.js';
import {
  escapeHtml,
  htmlDocument,
  packageLabel,
  renderFailureParts,
  sanitizeSubject,
  type RenderedEmail,
} from './render-failure-email.js';

const LABELS_IN_SUBJECT = 3;

/**
 * One email for a failure that kept repeating: which builds repeated the
 * failure already emailed, then the latest of them in full.
 */
export function renderDigestEmail(data: DigestEmailData): RenderedEmail {
  const what = describeFailure(data.latest);
  const labels = data.repeats.map((r) => packageLabel({ ...r, repo: r.buildId }));
  const shown = labels.slice(0, LABELS_IN_SUBJECT).join(', ');
  const more = labels.length > LABELS_IN_SUBJECT ? ` and ${labels.length - LABELS_IN_SUBJECT} more` : '';
  const name = data.latest.packageName ?? packageLabel(data.latest);
  const subject = sanitizeSubject(`[kiln] ${name} ${what.headline} again: ${shown}${more}`);
  const count = data.repeats.length === 1 ? '1 more build' : `${data.repeats.length} more builds`;
  const intro = `The failure Kiln emailed about for ${data.original.label} on ${utc(data.original.emailedAt)} happened again in ${count}:`;
  const rows = data.repeats.map((r, i) => ({
    label: labels[i] ?? r.buildId,
    commit: r.commit ? r.commit.slice(0, 12) : '',
    finished: r.finishedAt ? utc(r.finishedAt) : '',
    logs: `kiln logs ${r.buildId}`,
  }));
  const latest = renderFailureParts(data.latest);

  const width = Math.max(...rows.map((r) => r.label.length)) + 2;
  const text = [
    intro,
    '',
    ...rows.map((r) => `  ${r.label.padEnd(width)}${r.commit.padEnd(14)}${r.finished.padEnd(25)}${r.logs}`.trimEnd()),
    '',
    'The latest of them, in full:',
    '',
    latest.text,
  ].join('\n');

  const e = escapeHtml;
  const html = htmlDocument(
    subject,
    [
      `<p>${e(intro)}</p>`,
      '<table>',
      ...rows.map(
        (r) =>
          `<tr><td><code>${e(r.label)}</code></td><td><code>${e(r.commit)}</code></td><td>${e(r.finished)}</td><td><code>${e(r.logs)}</code></td></tr>`,
      ),
      '</table>',
      '<h3>The latest of them, in full</h3>',
      latest.htmlBody,
    ].join('\n'),
  );
  return { subject, text, html };
}

function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
