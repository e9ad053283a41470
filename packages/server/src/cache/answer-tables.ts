/**
 * The tables each kind of kept answer is read from, by the names the change
 * notifications carry (migrations 017 and 019): an answer goes when one of
 * them changes.
 * `package_needs` is not named: its rows change only with those of
 * `package_files` and `packages` (migration 012's triggers), in the same
 * transaction. A unit test holds these lists to the queries' own SQL.
 */
/** What a package's answers read: its rows and the files of its current build. */
const PACKAGE_TABLES = ['packages', 'package_files'] as const;

/** The rows a running build writes as it goes (its stages and commands, their timings, its own row). */
const BUILD_PROGRESS_TABLES = ['builds', 'build_stages', 'build_commands', 'build_phases'] as const;

export const ANSWER_TABLES = {
  /** A build, a page of builds: the build's own rows, and the package and files it made. */
  builds: [...BUILD_PROGRESS_TABLES, 'build_attestations', 'build_diffs', ...PACKAGE_TABLES],
  /** Packages, their versions and files. */
  packages: PACKAGE_TABLES,
  /** Searches over the files of current packages. */
  search: PACKAGE_TABLES,
  /** The search for static executables that embed a library package also reads what the build recorded of its compiler image. */
  searchEmbeds: [...PACKAGE_TABLES, 'builds'],
} as const satisfies Record<string, readonly string[]>;

/**
 * What a build event tells of before its change notification arrives (the
 * agent publishes it after its commit, but the two reach the server by
 * different roads): a stage, the build's own rows; its end, also the package
 * and files it recorded.
 */
export function buildEventTables(kind: string): readonly string[] {
  return kind === 'finished' ? ANSWER_TABLES.builds : BUILD_PROGRESS_TABLES;
}
