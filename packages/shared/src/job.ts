import { z } from 'zod';
import { isSafeRefName, isValidPackageName, isValidVersion } from './branch.js';
import { checkRepoLocation, redactRepo } from './repo-url.js';
import { DebianArchSchema } from './arch/debian-arch.js';

export const TRIGGERS = ['poll', 'webhook', 'hook', 'manual', 'cli', 'api', 'rebuild', 'dependency'] as const;
export type Trigger = (typeof TRIGGERS)[number];

const repo = z.string().superRefine((value, ctx) => {
  const check = checkRepoLocation(value);
  if (!check.ok) ctx.addIssue({ code: 'custom', message: `repository ${check.reason}` });
});
const branch = z.string().refine(isSafeRefName, { message: 'is not a safe git branch name' });

/**
 * The BuildJob on `build_queue`. The minimal form `{repo, branch?}` is what a
 * person drops by hand; the crawler and `kiln submit` send the full form, whose
 * `id` is the idempotency key of the build.
 */
export const BuildJobSchema = z.strictObject({
  id: z.uuid().optional(),
  repo,
  branch: branch.optional(),
  commit: z
    .string()
    .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a full lowercase hex commit id')
    .optional(),
  package: z
    .strictObject({
      name: z.string().refine(isValidPackageName, 'is not a valid package name'),
      version: z.string().refine(isValidVersion, 'is not a valid version'),
    })
    .optional(),
  trigger: z.enum(TRIGGERS).optional(),
  /** Build for this Debian arch only; absent: one build per arch the manifest lists (its native arch when none). */
  arch: DebianArchSchema.optional(),
  requestedAt: z.iso.datetime({ offset: true }).optional(),
});

export type BuildJob = z.infer<typeof BuildJobSchema>;

export type JobParseResult = { ok: true; job: BuildJob } | { ok: false; reason: string };

/** Parses a message body; the reason is one line a person can act on. */
export function parseBuildJob(body: Buffer | string): JobParseResult {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
  const parsed = BuildJobSchema.safeParse(data);
  if (parsed.success) return { ok: true, job: parsed.data };
  return { ok: false, reason: `not a BuildJob: ${formatZodIssues(parsed.error.issues)}` };
}

export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.length ? issue.path.map(String).join('.') : '(message)';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * The columns of a job's `queued` builds row, in the order
 * `(id, repo, branch, commit, package_name, package_version, trigger, arch)`
 * (arch null until the job is routed to one):
 * the one mapping from a job to its row, for the crawler's outbox and the
 * agent's admission alike. The repository is stored without credentials.
 */
export const QUEUED_BUILD_COLUMNS = 'id, repo, branch, commit, package_name, package_version, trigger, arch';

export function queuedBuildValues(job: BuildJob & { id: string }): unknown[] {
  return [
    job.id,
    redactRepo(job.repo),
    job.branch ?? null,
    job.commit ?? null,
    job.package?.name ?? null,
    job.package?.version ?? null,
    job.trigger ?? 'manual',
    job.arch ?? null,
  ];
}
