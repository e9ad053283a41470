export { startCrawler, type RunningCrawler, type StartCrawlerOptions } from './main.js';
export { Crawler, type CrawlerOptions, type CheckResult, type CycleStats } from './poll/crawler.js';
export { Limiter } from './poll/limiter.js';
export { Backoff } from './poll/backoff.js';
export { WatchList, type WatchedRepo } from './sources/watch-list.js';
export { findBareRepos, isBareRepo } from './sources/find-bare-repos.js';
export { repoIdentity } from './sources/repo-identity.js';
export {
  GitHeadLister,
  headListing,
  listHeads,
  parseHeads,
  resolveHead,
  type HeadLister,
  type HeadListing,
  type Heads,
  type ResolvedHead,
} from './git/ls-remote.js';
export { GitCommandError, runGit, runGitBuffer } from '@kiln/shared';
export { diffRefs, type RefChanges, type ReleaseHead } from './refs/ref-diff.js';
export type { RefStore } from './refs/ref-store.js';
export { PgRefStore } from './refs/pg-ref-store.js';
export { newBuildJob } from './outbox/build-job.js';
export { enqueueBuild, claimUnpublished, markPublished, countUnpublished } from './outbox/outbox-store.js';
export { OutboxRelay } from './outbox/outbox-relay.js';
export type { JobPublisher, PublishResult } from './publish/job-publisher.js';
export { AmqpJobPublisher } from './publish/amqp-job-publisher.js';
export { WebhookServer } from './webhook/webhook-server.js';
export { verifyWebhook, detectProvider, type Provider } from './webhook/signature.js';
export { submitBuild, type SubmitRequest, type SubmitResult } from './submit/submit-build.js';
