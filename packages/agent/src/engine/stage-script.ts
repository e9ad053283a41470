import { formatMarkerLine } from './stage-markers.js';

/** The wrapper's exit status when the process limit refused forks during a line. */
export const REFUSED_EXIT = 125;

/**
 * The stage container's command: read the wrapper from stdin (the engine
 * writes it and closes stdin), then run it with stdin from /dev/null, so no
 * build command can read the rest of the script.
 */
export const STAGE_COMMAND = ['/bin/sh', '-c', 'eval "$(cat)" </dev/null'];

export interface StageScriptInput {
  lines: readonly string[];
  /** Exported before the first line; names are already validated. */
  env: ReadonlyArray<{ name: string; value: string }>;
  token: string;
  workdir: string;
  /** Set for the install stage: exported as DESTDIR and created. */
  destdir?: string;
  /** Default 022. */
  umask?: string;
  /** Kiln's own lines run before the first script line (a reproducibility check's clock shift). */
  preamble?: readonly string[];
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
    'exec 9>&1',
    `umask ${/^0?[0-7]{3}$/.test(input.umask ?? '') ? input.umask : '022'}`,
    // Forks refused by the process limit so far, read with builtins only (a fork may be what is refused).
    '__kiln_refused() { __kiln_n=0; for __kiln_f in /sys/fs/cgroup/pids/pids.events /sys/fs/cgroup/pids.events; do' +
      ' if [ -r "$__kiln_f" ] && read -r __kiln_l < "$__kiln_f"; then __kiln_n=${__kiln_l#max }; break; fi; done 2>/dev/null;' +
      ' case $__kiln_n in ""|*[!0-9]*) __kiln_n=0;; esac; }',
    ...input.env.map(({ name, value }) => `export ${name}=${shellQuote(value)}`),
  ];
  if (input.destdir) out.push(`export DESTDIR=${shellQuote(input.destdir)}`, 'mkdir -p "$DESTDIR"');
  out.push(...(input.preamble ?? []), `cd ${shellQuote(input.workdir)} || exit 1`);
  input.lines.forEach((line, index) => {
    out.push(
      `printf '%s' ${shellQuote(formatMarkerLine(t, { kind: 'start', index }))} >&9`,
      `eval ${shellQuote(line)}`,
      '__kiln_rc=$?',
      '__kiln_refused',
      `printf '${t} e ${index} %d %d\\n' "$__kiln_rc" "$__kiln_n" >&9`,
      '[ "$__kiln_rc" -eq 0 ] || exit "$__kiln_rc"',
      // Past the process limit nothing later can be trusted to run: stop (the engine names the reason).
      `[ "$__kiln_n" -eq 0 ] || exit ${REFUSED_EXIT}`,
    );
  });
  out.push(`printf '%s' ${shellQuote(formatMarkerLine(t, { kind: 'done' }))} >&9`, 'exit 0', '');
  return out.join('\n');
}

/** Single-quotes a value for a POSIX shell: nothing inside is expanded. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
