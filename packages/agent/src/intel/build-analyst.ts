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
  type Manifest,
  type Queryable,
} from '@kiln/shared';
import { writeFileFacts } from './file-facts-rows.js';
import { imageSonames, type ImageLibraries } from './image-libraries.js';
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
  constructor(private readonly images: ImageLibraries | null) {}

  /** The SONAMEs of the image the build's stages ran in (read once per image digest); empty when unknown. */
  async buildImageSonames(db: Queryable, report: BuildReport): Promise<string[]> {
    const image = report.stages.find((s) => s.name !== 'prepare' && s.image)?.image;
    if (!image || !this.images) return [];
    return (await imageSonames(db, this.images, image)) ?? [];
  }

  async analyse(
    db: Queryable,
    buildId: string,
    report: BuildReport,
    manifest: Manifest | null,
    sonames: readonly string[],
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

  /** After the files are written: their facts, the diff and the unresolved needs. */
  async record(db: Queryable, buildId: string, analysed: Analysed): Promise<void> {
    const { report, diff } = analysed;
    if (report.status === 'succeeded' && report.install) await writeFileFacts(db, buildId, report.install.files);
    if (diff) await storeDiff(db, diff);
    const unresolved = report.analysis?.unresolved ?? [];
    if (unresolved.length > 0) {
      await db.query('UPDATE builds SET unresolved_needs = $2::jsonb WHERE id = $1', [
        buildId,
        JSON.stringify(unresolved),
      ]);
    }
  }
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
