import type { BuildEnvironment } from '../engine/build-environment.js';

/**
 * SOURCE_DATE_EPOCH (reproducible-builds.org): the time a build's tools
 * should write where they would write "now" (GCC's __DATE__ and __TIME__,
 * gzip headers, man pages, documentation). Kiln sets it to the commit's time,
 * so two builds of one commit agree. A manifest that sets it itself wins.
 */
export function withSourceDateEpoch(env: BuildEnvironment, epoch: number | undefined): BuildEnvironment {
  if (epoch === undefined || env.vars.some((v) => v.name === 'SOURCE_DATE_EPOCH')) return env;
  return { ...env, vars: [{ name: 'SOURCE_DATE_EPOCH', value: String(epoch) }, ...env.vars] };
}

/** A commit time as git prints it (`%ct`, seconds since 1970), or undefined when it is not one. */
export function parseEpoch(text: string | undefined): number | undefined {
  const trimmed = text?.trim() ?? '';
  if (!/^\d{1,12}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/**
 * `kiln run`'s SOURCE_DATE_EPOCH: the checkout's HEAD commit time; where
 * there is no commit (not a git checkout, no commit yet), the caller's own
 * SOURCE_DATE_EPOCH; else the current time, which the caller says in the log
 * (such a build cannot be reproduced by time).
 */
export async function checkoutSourceDate(
  dir: string,
  env: Record<string, string | undefined>,
  git: (args: string[], cwd: string) => Promise<string>,
): Promise<{ epoch: number; from: 'commit' | 'environment' | 'now' }> {
  const committed = parseEpoch(await git(['log', '-1', '--format=%ct', 'HEAD', '--'], dir).catch(() => undefined));
  if (committed !== undefined) return { epoch: committed, from: 'commit' };
  const given = parseEpoch(env.SOURCE_DATE_EPOCH);
  if (given !== undefined) return { epoch: given, from: 'environment' };
  return { epoch: Math.floor(Date.now() / 1000), from: 'now' };
}
