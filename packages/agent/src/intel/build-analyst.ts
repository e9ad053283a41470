import {
  compareBuilds,
  loadBuildSide,
  previousBuild,
  providedSonames,
  storeDiff,
  summariseDiff,
  type BuildDiff,
  type BuildReport,
  type BuildSide,
  type ImagePackage,
  type Logger,
  type Manifest,
  type Queryable,
} from '@kiln/shared';
import { changedSonames, queueDependents, type RebuildPolicy } from './dependent-rebuilds.js';
import { writeFileFacts } from './file-facts-rows.js';
import { imageSonames, type ImageLibraries } from './image-libraries.js';
import { imagePackages, type ImagePackageReader } from './image-packages.js';
import { unresolvedNeeds } from './needs-resolution.js';
import { policyFindings } from './policy-findings.js';

export interface Analysed {
  report: BuildReport;
  diff: BuildDiff | null;
}

/**
 * Turns a build's recorded files into answers, as the build is recorded:
 * what it provides, which needs nothing provides, what changed since the
 * previous build, and what the manifest's `policy:` makes of it (a `fail`
 * finding fails the build). Runs inside the build store's transaction.
 */
export class BuildAnalyst {
  constructor(
    private readonly images: (ImageLibraries & ImagePackageReader) | null,
    private readonly logger?: Logger,
    private readonly rebuilds: RebuildPolicy = { repos: [], onLibraryChange: false, perHour: 0 },
  ) {}

  /** The SONAMEs of the image the build's stages ran in (read once per image digest); empty when unknown. */
  async buildImageSonames(db: Queryable, report: BuildReport): Promise<string[]> {
    const image = buildImage(report);
    if (!image || !this.images) return [];
    try {
      return (await imageSonames(db, this.images, image)) ?? [];
    } catch (err) {
      this.logger?.warn({ err, image }, "could not read the build image's libraries: needs are resolved without them");
      return [];
    }
  }

  /**
   * For a build with static executables: the library packages of the image
   * that compiled them (read once per image digest); null otherwise or when unknown.
   */
  async staticBuiltUsing(db: Queryable, report: BuildReport): Promise<ImagePackage[] | null> {
    const files = report.install?.files ?? [];
    if (report.status !== 'succeeded' || !files.some((f) => f.kind === 'executable' && f.linkage === 'static'))
      return null;
    const image = buildImage(report);
    if (!image || !this.images) return null;
    try {
      return await imagePackages(db, this.images, image);
    } catch (err) {
      this.logger?.warn({ err, image }, "could not read the build image's packages: Static-Built-Using is unknown");
      return null;
    }
  }

  /**
   * The report with its analysis (and failed when the policy says so). The
   * analysis runs in a savepoint: if it breaks, the build is recorded without it.
   */
  async analyse(
    db: Queryable,
    buildId: string,
    report: BuildReport,
    manifest: Manifest | null,
    sonames: readonly string[],
    embedded: ImagePackage[] | null = null,
  ): Promise<Analysed> {
    return (
      (await this.guarded(db, 'analysing', () =>
        this.analyseNow(db, buildId, report, manifest, sonames, embedded),
      )) ?? {
        report,
        diff: null,
      }
    );
  }

  /** After the files are written: their facts, the diff and the unresolved needs. */
  async record(db: Queryable, buildId: string, analysed: Analysed): Promise<void> {
    await this.guarded(db, 'recording the analysis of', () => this.recordNow(db, buildId, analysed));
  }

  private async guarded<T>(db: Queryable, what: string, work: () => Promise<T>): Promise<T | null> {
    await db.query('SAVEPOINT kiln_analysis');
    try {
      const result = await work();
      await db.query('RELEASE SAVEPOINT kiln_analysis');
      return result;
    } catch (err) {
      await db.query('ROLLBACK TO SAVEPOINT kiln_analysis');
      this.logger?.error({ err }, `${what} the build failed: it is recorded without its analysis`);
      return null;
    }
  }

  private async analyseNow(
    db: Queryable,
    buildId: string,
    report: BuildReport,
    manifest: Manifest | null,
    sonames: readonly string[],
    embedded: ImagePackage[] | null,
  ): Promise<Analysed> {
    const files = report.install?.files;
    if (report.status !== 'succeeded' || !files) return { report, diff: null };
    const previous = await previousBuild(db, buildId);
    const before = previous ? await loadBuildSide(db, previous.id) : null;
    const diff = previous && before ? compareBuilds(before, sideOf(buildId, report), previous.basis) : null;
    const unresolved = await unresolvedNeeds(db, files, sonames);
    const findings = policyFindings(files, unresolved, diff, manifest?.policy);
    const analysed: BuildReport = {
      ...report,
      analysis: {
        provides: providedSonames(files),
        unresolved,
        findings,
        ...(diff ? { changes: summariseDiff(diff) } : {}),
        ...(embedded ? { staticBuiltUsing: embedded } : {}),
      },
    };
    const failing = findings.filter((f) => f.level === 'fail');
    if (failing.length === 0) return { report: analysed, diff };
    const reason = `policy: ${failing.map((f) => f.message).join('; ')}`;
    return {
      report: { ...analysed, status: 'failed', error: reason, failure: { stage: 'policy', reason } },
      diff,
    };
  }

  private async recordNow(db: Queryable, buildId: string, analysed: Analysed): Promise<void> {
    const { report, diff } = analysed;
    if (report.status === 'succeeded' && report.install) await writeFileFacts(db, buildId, report.install.files);
    if (diff) await storeDiff(db, diff);
    if (diff && report.status === 'succeeded')
      await rebuildDependents(db, buildId, report, diff, this.rebuilds, this.logger);
    const embedded = report.analysis?.staticBuiltUsing;
    if (embedded) {
      await db.query('UPDATE builds SET static_built_using = $2::jsonb WHERE id = $1', [
        buildId,
        JSON.stringify(embedded),
      ]);
    }
    const unresolved = report.analysis?.unresolved ?? [];
    if (unresolved.length > 0) {
      await db.query('UPDATE builds SET unresolved_needs = $2::jsonb WHERE id = $1', [
        buildId,
        JSON.stringify(unresolved),
      ]);
    }
  }
}

/** Rebuilds of the packages that need a SONAME this build changed (off unless opted in). */
async function rebuildDependents(
  db: Queryable,
  buildId: string,
  report: BuildReport,
  diff: BuildDiff,
  policy: RebuildPolicy,
  logger?: Logger,
): Promise<void> {
  const providing = new Map(
    (report.install?.files ?? []).flatMap((f) => (f.soname ? [[f.path, f.soname] as const] : [])),
  );
  const sonames = changedSonames(diff, providing, policy.onLibraryChange);
  if (sonames.length === 0 || !report.package) return;
  const { rows } = await db.query<{ repo: string; arch: string | null }>(
    'SELECT repo, arch FROM builds WHERE id = $1',
    [buildId],
  );
  const queued = await queueDependents(
    db,
    {
      id: buildId,
      packageName: report.package.name,
      repo: rows[0]?.repo ?? '',
      arch: report.arch ?? rows[0]?.arch ?? null,
    },
    sonames,
    policy,
  );
  if (queued.length > 0)
    logger?.info({ buildId, sonames, queued }, 'queued rebuilds of the packages that need what changed');
}

/** The image the build's stages ran in (after `prepare`): the compiler's. */
function buildImage(report: BuildReport): string | undefined {
  return report.stages.find((s) => s.name !== 'prepare' && s.image)?.image;
}

/** The build being recorded, from its report (its rows are not written yet). */
function sideOf(buildId: string, report: BuildReport): BuildSide {
  return {
    id: buildId,
    version: report.package?.version ?? null,
    files: report.install?.files ?? [],
    commands: report.stages.flatMap((s) =>
      s.commands.map((c) => ({ stage: s.name, command: c.command, durationMs: c.durationMs })),
    ),
  };
}
