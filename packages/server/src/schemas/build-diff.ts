import { z } from 'zod';

const FileBrief = z.object({ path: z.string(), size: z.number(), sha256: z.string().optional() });

/** What a build changed against an earlier one (`BuildDiff` in @kiln/shared). */
export const BuildDiffSchema = z
  .object({
    build: z.string().describe('the build compared'),
    against: z.string().describe('the earlier build it is compared with'),
    basis: z
      .enum(['hotfix', 'previous-version', 'chosen'])
      .describe('`hotfix`: the same version built before; `previous-version`; `chosen`: `?against=`'),
    versions: z.object({ before: z.string().nullable(), after: z.string().nullable() }),
    files: z.object({
      added: z.array(FileBrief),
      removed: z.array(FileBrief),
      changed: z.array(
        z.object({
          path: z.string(),
          sizeBefore: z.number(),
          sizeAfter: z.number(),
          sha256Before: z.string().optional(),
          sha256After: z.string().optional(),
        }),
      ),
      unchanged: z.number(),
    }),
    sizeBytes: z.object({ before: z.number(), after: z.number(), change: z.number() }),
    kinds: z.array(z.object({ path: z.string(), before: z.string(), after: z.string() })),
    linkage: z.array(
      z.object({
        path: z.string(),
        before: z.string().nullable(),
        after: z.string().nullable(),
        neededAdded: z.array(z.string()),
        neededRemoved: z.array(z.string()),
      }),
    ),
    provides: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
    abiChange: z.boolean().describe('a provided SONAME was added or removed'),
    hardeningLost: z.array(
      z.object({
        path: z.string(),
        lost: z.enum(['relro', 'pie', 'bindNow', 'nxStack', 'runpath', 'static']),
        before: z.string(),
        after: z.string(),
      }),
    ),
    commands: z
      .array(z.object({ stage: z.string(), command: z.string(), beforeMs: z.number(), afterMs: z.number() }))
      .describe('commands whose time changed beyond noise'),
  })
  .meta({ id: 'BuildDiff' });
