import { DebianArchSchema, PHASES } from '@kiln/shared';
import { z } from 'zod';
import { BuildAnalysisSchema, ReproducibilityVerdictSchema } from './build-analysis.js';
import { ArtifactFormatSchema, BuildIdSchema, BuildStatusSchema, InstalledFileSchema } from './common.js';

export const BuildSummarySchema = z
  .object({
    id: z.guid(),
    repo: z.string(),
    branch: z.string().nullable(),
    commit: z.string().nullable(),
    package: z.object({ name: z.string(), version: z.string() }).nullable(),
    /** Null while the job waits to be routed (its manifest's arch list not read yet). */
    arch: z.string().nullable(),
    trigger: z.string(),
    status: BuildStatusSchema,
    attempt: z.number().int(),
    agent: z.string().nullable(),
    queuedAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    error: z.string().nullable(),
    /** Running, but its agent stopped renewing its lease (it died or lost the database). */
    stalled: z.boolean(),
    rebuildOf: z.guid().nullable(),
    cancelRequested: z.boolean(),
  })
  .meta({ id: 'BuildSummary' });
export type BuildSummaryOut = z.output<typeof BuildSummarySchema>;

export const BuildListSchema = z
  .object({
    builds: z.array(BuildSummarySchema),
    /** Pass as `before` for the next page; null on the last page. */
    next: z.guid().nullable(),
  })
  .meta({ id: 'BuildList' });

const CommandSchema = z.object({
  position: z.number().int(),
  command: z.string(),
  exitCode: z.number().int().nullable(),
  startedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
});

const PhaseTimingSchema = z.object({
  phase: z.enum(PHASES),
  stage: z.string().optional(),
  /** From the attempt's first phase. */
  startMs: z.number(),
  durationMs: z.number(),
});

const StageSchema = z.object({
  position: z.number().int(),
  name: z.string(),
  image: z.string().nullable(),
  status: z.string(),
  exitCode: z.number().int().nullable(),
  startedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
  commands: z.array(CommandSchema),
});

export const BuildDetailsSchema = BuildSummarySchema.extend({
  failure: z
    .object({ stage: z.string().nullable(), command: z.string().nullable(), exitCode: z.number().int().nullable() })
    .nullable(),
  heartbeatAt: z.string().nullable(),
  stages: z.array(StageSchema),
  /** Where the current attempt's time went, phase by phase (queue, checkout, each stage, ...). */
  timings: z.array(PhaseTimingSchema),
  files: z.object({ count: z.number().int(), sizeBytes: z.number() }),
  /** The package this build produced, when `packages` points at it. */
  current: z.boolean(),
  artifact: z.object({ url: z.string(), sha256: z.string().nullable(), format: ArtifactFormatSchema }).nullable(),
  reproducibility: ReproducibilityVerdictSchema.nullable().describe(
    "null when the build was not checked; diffoscope's text is at `url`",
  ),
  documents: z
    .array(
      z.object({
        kind: z.enum(['sbom', 'provenance']),
        url: z.string(),
        sha256: z.string(),
        signedBy: z.string().optional().describe("the signing key's fingerprint (provenance)"),
      }),
    )
    .describe('the SBOM (CycloneDX JSON) and the signed SLSA provenance recorded for the build'),
  analysis: BuildAnalysisSchema.nullable().describe('null when the build recorded none (it did not succeed, or older)'),
}).meta({ id: 'BuildDetails' });
export type BuildDetailsOut = z.output<typeof BuildDetailsSchema>;

export const BuildFilesSchema = z
  .object({ files: z.array(InstalledFileSchema), next: z.string().nullable() })
  .meta({ id: 'BuildFiles' });

export const BuildParamsSchema = z.object({ id: BuildIdSchema });

export const SubmitBodySchema = z
  .strictObject({
    repo: z.string().min(1).max(2048),
    branch: z.string().min(1).max(255).optional(),
    arch: DebianArchSchema.optional(),
  })
  .meta({ id: 'SubmitRequest' });

export const AcceptedSchema = z.object({ id: z.guid(), status: BuildStatusSchema }).meta({ id: 'Accepted' });
