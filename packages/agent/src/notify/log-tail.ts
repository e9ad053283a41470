/**
 * The end of a build log, fit for an email: the last `maxLines` lines, each
 * cut to `maxLineLength`, terminal escapes and control characters removed,
 * and (again, after the engine) secret values and URL credentials masked.
 */
export interface LogTailOptions {
  maxLines: number;
  maxLineLength: number;
  /** Values to replace with `***` (the manifest's secret-looking variables). */
  secrets?: string[];
}

export const MASK = '***';
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
const URL_CREDENTIALS = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]+@/g;

export function logTail(text: string, options: LogTailOptions): { lines: string[]; truncated: boolean } {
  const all = text.split('\n');
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  const truncated = all.length > options.maxLines;
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const lines = all.slice(all.length - Math.min(all.length, options.maxLines)).map((raw) => {
    // A progress bar rewrites its line with \r: what a terminal would show is the last version.
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    line = line.slice(line.lastIndexOf('\r') + 1);
    line = line.replace(ANSI, '').replace(CONTROL, '');
    for (const secret of secrets) line = line.split(secret).join(MASK);
    line = line.replace(URL_CREDENTIALS, `$1${MASK}@`);
    return line.length > options.maxLineLength ? `${line.slice(0, options.maxLineLength)}…` : line;
  });
  return { lines, truncated };
}

const SECRET_NAME = /TOKEN|SECRET|PASSW|PASSPHRASE|KEY|CREDENTIAL|AUTH/i;

/** The values of a manifest's variables whose names look like secrets. */
export function secretValues(vars: { name: string; value: string }[]): string[] {
  return vars.filter((v) => SECRET_NAME.test(v.name) && v.value.length > 0).map((v) => v.value);
}
