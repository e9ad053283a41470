import { formatMarkerLine } from './stage-markers.js';

/** Where the wrapper is put inside a stage container (it deletes itself at once). */
export const STAGE_SCRIPT_PATH = '/kiln/stage.sh';

export interface StageScriptInput {
  lines: readonly string[];
  /** Exported before the first line; names are already validated. */
  env: ReadonlyArray<{ name: string; value: string }>;
  token: string;
  workdir: string;
  /** Set for the install stage: exported as DESTDIR and created. */
  destdir?: string;
}

/**
 * The shell program a stage container runs. Every script line is `eval`ed in
 * the same POSIX shell (busybox has no bash), so `cd` and `export` carry to the
 * next line; the first failing line ends the stage with its exit code. Markers
 * before and after each line go to a copy of stdout taken before any line
 * runs (so a line that redirects its own output does not hide them), in
 * order with the lines' own stdout: most build output. The
 * environment lives in this file rather than the container's config, so it
 * never reaches `docker inspect` or a committed image.
 */
export function renderStageScript(input: StageScriptInput): string {
  const t = input.token;
  const out = [
    '# Written by Kiln for one stage.',
    `rm -f ${STAGE_SCRIPT_PATH}`,
    'exec 9>&1',
    'umask 022',
    ...input.env.map(({ name, value }) => `export ${name}=${shellQuote(value)}`),
  ];
  if (input.destdir) out.push(`export DESTDIR=${shellQuote(input.destdir)}`, 'mkdir -p "$DESTDIR"');
  out.push(`cd ${shellQuote(input.workdir)} || exit 1`);
  input.lines.forEach((line, index) => {
    out.push(
      `printf '%s' ${shellQuote(formatMarkerLine(t, { kind: 'start', index }))} >&9`,
      `eval ${shellQuote(line)}`,
      '__kiln_rc=$?',
      `printf '${t} e ${index} %d\\n' "$__kiln_rc" >&9`,
      '[ "$__kiln_rc" -eq 0 ] || exit "$__kiln_rc"',
    );
  });
  out.push(`printf '%s' ${shellQuote(formatMarkerLine(t, { kind: 'done' }))} >&9`, 'exit 0', '');
  return out.join('\n');
}

/** Single-quotes a value for a POSIX shell: nothing inside is expanded. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
