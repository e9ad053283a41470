import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Builds, once and before any suite starts, everything a test spawns: the
 * `kiln` command (bin/kiln.js → dist/cli) and the packages it imports from
 * their `dist/`. In-process tests import the sources directly; a spawned
 * CLI would otherwise run whatever `dist/` happened to hold. No test builds
 * anything itself, so no suite reads `dist/` while it is being written.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  try {
    // `src` references shared, agent and crawler: one incremental build of all four.
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'src'], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`the build before the tests failed (tsc -b src):\n${stdout}${stderr}`, { cause: err });
  }
  if (process.env.KILN_TEST_LOG)
    process.stderr.write(`\nbuilt dist/ for spawned processes in ${Date.now() - started} ms\n`);
}
