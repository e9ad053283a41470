import { z } from 'zod';

/** The reproducibility check's verdict as a build's details show it (diffoscope's text is behind `url`). */
export const ReproducibilityVerdictSchema = z
  .object({
    status: z
      .enum(['reproducible', 'unreproducible', 'error'])
      .describe('`error`: the second build or the comparison could not be done'),
    differing: z.array(z.string()).describe('paths whose content, mode or link target differ, or that one build lacks'),
    error: z.string().optional(),
    url: z.string().describe("GET it for the variations and diffoscope's text"),
  })
  .meta({ id: 'ReproducibilityVerdict' });

/** `BuildAnalysis` in @kiln/shared: what Kiln found when it recorded the build. */
export const BuildAnalysisSchema = z
  .object({
    provides: z.array(z.string()).describe("SONAMEs the package's shared libraries provide"),
    unresolved: z
      .array(z.object({ soname: z.string(), files: z.array(z.string()) }))
      .describe('needed libraries no package, no file of the build and no build image provides'),
    findings: z
      .array(
        z.object({
          rule: z.enum(['needs', 'hardening', 'setuid', 'runpath', 'static']),
          level: z.enum(['warn', 'fail']),
          path: z.string().optional(),
          message: z.string(),
        }),
      )
      .describe("what the manifest's `policy:` judged; `fail` ones failed the build"),
    changes: z
      .object({
        against: z.string().describe('the earlier build'),
        basis: z.enum(['hotfix', 'previous-version', 'chosen']),
        added: z.number().int(),
        removed: z.number().int(),
        changed: z.number().int(),
        sizeChange: z.number(),
        providesAdded: z.array(z.string()),
        providesRemoved: z.array(z.string()),
        abiChange: z.boolean(),
        hardeningLost: z.number().int(),
        slowerCommands: z.number().int(),
        url: z.string().describe('the whole diff: GET /api/v1/builds/{id}/diff'),
      })
      .optional()
      .describe('a short account of the diff against the previous build'),
  })
  .meta({ id: 'BuildAnalysis' });
