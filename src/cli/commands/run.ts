import { randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { checkoutSourceDate, createDockerEngine, engineOptionsFromConfig, manifestDigester } from '@kiln/agent/engine';
import {
  BINFMT_DIR,
  InfrastructureError,
  InvalidInputError,
  isKnownArch,
  KNOWN_ARCHS,
  qemuNameOfArch,
  servedArches,
  ManifestError,
  loadConfig,
  parseReleaseBranch,
  readManifestFrom,
  runGit,
  type BuildReport,
  type Manifest,
} from '@kiln/shared';
import { EXIT, type Io } from '../output.js';
import { createProgress } from './run-progress.js';
import { neutralise } from '../terminal-text.js';
import { formatReport } from './run-report.js';

/** Ctrl-C: the shell's convention for "interrupted". */
const EXIT_INTERRUPTED = 130;

interface RunOptions {
  json?: boolean;
  artifacts?: string;
  inPlace?: boolean;
  arch?: string;
}

export function registerRun(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('run [dir]')
    .description("build a checkout's manifest locally with Docker (no broker or database) and print the report")
    .option('--json', 'print only the build report, as JSON, on stdout')
    .option('--artifacts <dir>', 'where the payload artifact goes (default: KILN_ARTIFACT_DIR)')
    .option('--in-place', 'build in the checkout itself instead of a copy (its build output stays, owned by root)')
    .option('--arch <arch>', "the Debian arch to build for (default: this machine's); another one runs under qemu")
    .addHelpText(
      'after',
      '\nThe checkout is copied to a scratch folder first (as the agent builds a fresh clone), so a\n' +
        'build never changes your files; --in-place skips the copy.\n' +
        '\nExit status: 0 the build succeeded, 1 it failed, 2 invalid manifest or usage, 130 interrupted.\n' +
        '\nExamples:\n  $ kiln run\n  $ kiln run examples/libgreet --json | jq .install.files\n' +
        '  $ kiln run examples/libgreet --arch arm64\n',
    )
    .action(async (dir: string | undefined, opts: RunOptions) => {
      done(await runBuild(dir ?? '.', opts, io));
    });
}

async function runBuild(dir: string, opts: RunOptions, io: Io): Promise<number> {
  const checkout = path.resolve(dir);
  const info = await stat(checkout).catch(() => null);
  if (!info?.isDirectory()) throw new InvalidInputError(`${dir} is not a directory: give the path of a checkout`);
  const config = loadConfig(io.env);
  const arch = opts.arch === undefined ? undefined : await checkArch(opts.arch);

  let manifest: Manifest;
  const manifestFile = manifestDigester();
  try {
    manifest = await readManifestFrom(
      manifestFile.source((file) => readFile(path.join(checkout, file)).catch(() => null)),
    );
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    for (const line of err.message.split('\n')) io.err(`kiln: ${line}\n`);
    if (opts.json) io.out(`${JSON.stringify(erroredReport(err.message))}\n`);
    return EXIT.usage;
  }

  const engine = createDockerEngine({ ...engineOptionsFromConfig(config) });
  // The checkout is copied, and its branch read, while Docker is asked for leftovers.
  const copying = opts.inPlace ? Promise.resolve(checkout) : copyOf(checkout, config.KILN_WORK_DIR);
  copying.catch(() => undefined);
  const packageFound = packageOf(manifest, checkout);
  try {
    // What an earlier `kiln run` killed with SIGKILL left behind (never another live process's).
    await engine.reap();
  } catch (err) {
    const copy = await copying.catch(() => checkout);
    if (copy !== checkout) await rm(copy, { recursive: true, force: true }).catch(() => undefined);
    const where = io.env.DOCKER_HOST ?? '/var/run/docker.sock';
    throw new InfrastructureError(
      `cannot reach Docker at ${where}: is the Docker engine running? (${(err as Error).message})`,
      { cause: err },
    );
  }

  const sourceDate = await checkoutSourceDate(checkout, io.env, (args, cwd) => runGit(args, { cwd, timeoutMs: 5000 }));
  // With --json the report carries it (sourceDateEpoch); stderr stays for errors.
  if (sourceDate.from !== 'commit' && opts.json !== true) {
    io.err(
      `kiln: ${checkout} has no commit: SOURCE_DATE_EPOCH is ${sourceDate.epoch} ` +
        `(${sourceDate.from === 'now' ? 'the current time' : 'from your environment'})\n`,
    );
  }
  const live = io.isTty && !opts.json;
  const progress = createProgress(io.err, { live, columns: process.stderr.columns });
  const quiet = opts.json === true;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      progress.close();
      io.err('kiln: stopping the build and removing its containers (Ctrl-C again to quit at once)\n');
      controller.abort();
    } else {
      process.exit(EXIT_INTERRUPTED);
    }
  };
  process.on('SIGINT', onSigint);
  let report: BuildReport;
  const workspace = await copying;
  try {
    const outcome = await engine.build({
      buildId: randomUUID(),
      workspace,
      repo: path.resolve(checkout),
      manifest,
      package: await packageFound,
      ...(arch ? { arch } : {}),
      artifactDir: path.resolve(opts.artifacts ?? config.KILN_ARTIFACT_DIR),
      artifactFormat: config.KILN_ARTIFACT_FORMAT,
      ...(config.KILN_ALLOW_INHERIT_ENV ? { hostEnv: io.env } : {}),
      signal: controller.signal,
      sourceDateEpoch: sourceDate.epoch,
      provenance: {
        repository: checkout,
        commit: await headCommit(checkout),
        branch: await currentBranch(checkout),
        ...(manifestFile.found() ? { manifest: manifestFile.found() } : {}),
        builder: `kiln-run:${os.hostname()}`,
      },
      ...(quiet ? {} : { events: progress.events }),
    });
    report = outcome.report;
  } finally {
    process.off('SIGINT', onSigint);
    progress.close();
    if (workspace !== checkout) {
      // Build output is written by root in the container; a non-root user may not be able to remove it.
      await rm(workspace, { recursive: true, force: true }).catch((err: unknown) =>
        io.err(`kiln: could not remove the scratch copy ${workspace} (${(err as Error).message}); remove it as root\n`),
      );
    }
  }

  if (opts.json) io.out(`${JSON.stringify(report)}\n`);
  else io.out(neutralise(formatReport(report), io.isTty));
  if (report.status === 'succeeded') return EXIT.ok;
  if (report.status === 'cancelled') return EXIT_INTERRUPTED;
  return EXIT.failed;
}

/** An arch this machine can build for: its own, or one with a registered emulator. */
async function checkArch(arch: string): Promise<string> {
  if (!isKnownArch(arch)) {
    throw new InvalidInputError(`--arch ${arch} is not an arch Kiln knows: use one of ${KNOWN_ARCHS.join(', ')}`);
  }
  const { arches: runnable } = await servedArches();
  if (!runnable.includes(arch)) {
    throw new InvalidInputError(
      `--arch ${arch}: this machine cannot run ${arch} programs: no qemu binfmt_misc handler ` +
        `(${BINFMT_DIR}/qemu-${qemuNameOfArch(arch)}) is registered; scripts/setup.sh registers them ` +
        `(it runs ${runnable.join(', ')})`,
    );
  }
  return arch;
}

/** A scratch copy of the checkout (its .git included, for builds that ask git for a version). */
async function copyOf(checkout: string, workDir: string): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const scratch = await mkdtemp(path.join(workDir, 'run-'));
  await cp(checkout, scratch, { recursive: true, verbatimSymlinks: true });
  return scratch;
}

/**
 * The manifest's package name and version; otherwise what the checked-out
 * branch says (`zlib-1.3.1`), as the crawler would read it; otherwise none.
 */
async function packageOf(manifest: Manifest, workspace: string): Promise<{ name: string; version: string } | null> {
  const fromBranch = await currentBranch(workspace).then((branch) => (branch ? parseReleaseBranch(branch) : null));
  const name = manifest.package.name ?? fromBranch?.name;
  const version = manifest.package.version ?? fromBranch?.version;
  return name && version ? { name, version } : null;
}

async function headCommit(workspace: string): Promise<string | null> {
  const commit = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], {
    cwd: workspace,
    timeoutMs: 5000,
  }).catch(() => '');
  return /^[0-9a-f]{40,64}$/.test(commit.trim()) ? commit.trim() : null;
}

async function currentBranch(workspace: string): Promise<string | null> {
  try {
    const branch = await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: workspace, timeoutMs: 5000 });
    return branch.trim() || null;
  } catch {
    // Not a git checkout, or a detached head: no branch to read a version from.
    return null;
  }
}

function erroredReport(error: string): BuildReport {
  return { status: 'errored', package: null, durationMs: 0, stages: [], install: null, error };
}
