import { InvalidInputError } from '../errors.js';

export interface ManifestIssue {
  /** Where in the document, as a person writes it: `stages[1]`, `build.script[0]`. */
  path: string;
  message: string;
  line?: number;
}

export function formatIssue(issue: ManifestIssue): string {
  const where = issue.path ? `${issue.path}: ` : '';
  const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
  return `${where}${issue.message}${line}`;
}

/** An invalid manifest: the build cannot run, and retrying will not help. */
export class ManifestError extends InvalidInputError {
  constructor(
    readonly file: string,
    readonly issues: ManifestIssue[],
  ) {
    super(`${file}: ${issues.map(formatIssue).join(`\n${file}: `)}`);
  }
}
