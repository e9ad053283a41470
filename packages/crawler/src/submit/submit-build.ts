import {
  checkRepoLocation,
  InvalidInputError,
  isSafeRefName,
  parseReleaseBranch,
  redactRepo,
  toError,
  withTransaction,
  type BuildJob,
  type Pool,
  type Trigger,
} from '@kiln/shared';
import type { ResolvedHead } from '../git/ls-remote.js';
import { newBuildJob } from '../outbox/build-job.js';
import { enqueueBuild, markPublished } from '../outbox/outbox-store.js';
import type { JobPublisher } from '../publish/job-publisher.js';

export interface SubmitRequest {
  repo: string;
  branch?: string;
  /** Build exactly this commit (a rebuild): the branch is not resolved again. */
  commit?: string;
  /** Build for this Debian arch only; absent: one build per arch the manifest lists. */
  arch?: string;
  /** Who asked: `cli` (the default) for `kiln submit`, `api` and `rebuild` for kiln server. */
  trigger?: Trigger;
}

export interface SubmitDeps {
  /** Resolves the branch (or the default branch) to a commit; throws when the server cannot be asked. */
  resolve: (repo: string, branch: string | undefined) => Promise<ResolvedHead | null>;
  /** Null when the database could not be reached: the job is still published. */
  pool: Pool | null;
  publisher: JobPublisher;
}

export interface SubmitResult {
  id: string;
  job: BuildJob & { id: string };
  /** A queued build row (and outbox entry) was written. */
  recorded: boolean;
  /** RabbitMQ confirmed the job. */
  published: boolean;
  warnings: string[];
}

/**
 * `kiln submit`: validates, resolves the commit when the server answers,
 * records a queued build with its outbox entry, and publishes the job. If
 * publishing fails after the build was recorded, the entry stays in the
 * outbox and a running crawler publishes it when RabbitMQ is back.
 */
export async function submitBuild(request: SubmitRequest, deps: SubmitDeps): Promise<SubmitResult> {
  const check = checkRepoLocation(request.repo);
  if (!check.ok) throw new InvalidInputError(`repository ${JSON.stringify(redactRepo(request.repo))} ${check.reason}`);
  if (request.branch !== undefined && !isSafeRefName(request.branch)) {
    throw new InvalidInputError(`branch ${JSON.stringify(request.branch)} is not a safe git branch name`);
  }
  const warnings: string[] = [];
  let branch = request.branch;
  let commit = request.commit;
  if (commit === undefined) {
    try {
      const head = await deps.resolve(request.repo, request.branch);
      if (!head) {
        throw new InvalidInputError(
          request.branch === undefined
            ? `${redactRepo(request.repo)} has no default branch: name one`
            : `${redactRepo(request.repo)} has no branch ${request.branch}`,
        );
      }
      branch = head.branch;
      commit = head.commit;
    } catch (err) {
      if (err instanceof InvalidInputError) throw err;
      // A path on this host that git cannot read is no repository: no agent could build it either.
      if (check.kind === 'path') {
        throw new InvalidInputError(`${request.repo} is not a git repository (${toError(err).message})`, {
          cause: err,
        });
      }
      warnings.push(
        `could not resolve the commit (${toError(err).message}); the agent builds whatever the branch points at then`,
      );
    }
  }
  const job = newBuildJob({
    repo: request.repo,
    branch,
    commit,
    package: branch ? (parseReleaseBranch(branch) ?? undefined) : undefined,
    trigger: request.trigger ?? 'cli',
    ...(request.arch ? { arch: request.arch } : {}),
  });

  let recorded = false;
  if (deps.pool) {
    try {
      await withTransaction(deps.pool, (db) => enqueueBuild(db, job));
      recorded = true;
    } catch (err) {
      warnings.push(
        `could not record the build in the database (${toError(err).message}); publishing the job without a queued build row`,
      );
    }
  } else {
    warnings.push('the database is unreachable; publishing the job without a queued build row');
  }

  let published = false;
  try {
    let result = await deps.publisher.publish([job]);
    // A broker node that went away mid-publish: once more, which connects to
    // the next node of a cluster (agents dedupe by job id if both arrive).
    if (!result.confirmed.includes(job.id)) result = await deps.publisher.publish([job]);
    published = result.confirmed.includes(job.id);
    if (!published) warnings.push(`RabbitMQ did not confirm the job: ${result.failed[0]?.error ?? 'unknown reason'}`);
  } catch (err) {
    if (!recorded) throw err;
    warnings.push(
      `could not publish the job (${toError(err).message}); it waits in the outbox for the crawler to publish`,
    );
  }
  if (published && recorded && deps.pool) {
    await withTransaction(deps.pool, (db) => markPublished(db, [job.id])).catch((err: unknown) => {
      warnings.push(
        `published, but could not mark the outbox entry (${toError(err).message}); the crawler may publish it again (agents dedupe by id)`,
      );
    });
  }
  return { id: job.id, job, recorded, published, warnings };
}
