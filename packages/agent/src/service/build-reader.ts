// The read side of a build lives in @kiln/shared (kiln server reads the same); the agent's users keep their names.
export {
  buildState,
  getBuild,
  listBuilds,
  logAttempt,
  readLog,
  resolveBuildId,
  type BuildDetails,
  type BuildSummary,
  type CommandDetails,
  type LogLine,
  type StageDetails,
} from '@kiln/shared';
