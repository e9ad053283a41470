/**
 * The tables each kind of kept answer is read from, by the names the change
 * notifications carry (migrations 017 and 019): an answer goes when one of
 * them changes.
 * `package_needs` is not named: its rows change only with those of
 * `package_files` and `packages` (migration 012's triggers), in the same
 * transaction. A unit test holds these lists to the queries' own SQL.
 */
export const ANSWER_TABLES = {
  /** A build, a page of builds: the build's own rows, and the package and files it made. */
  builds: [
    'builds',
    'build_stages',
    'build_commands',
    'build_phases',
    'build_attestations',
    'build_diffs',
    'packages',
    'package_files',
  ],
  /** Packages, their versions and files. */
  packages: ['packages', 'package_files'],
  /** Searches over the files of current packages. */
  search: ['packages', 'package_files'],
  /** The search for static executables that embed a library package also reads what the build recorded of its compiler image. */
  searchEmbeds: ['packages', 'package_files', 'builds'],
} as const satisfies Record<string, readonly string[]>;

/**
 * What a build event tells of before its change notification arrives (the
 * agent publishes it after its commit, but the two reach the server by
 * different roads): a stage, the build's own rows; its end, also the package
 * and files it recorded.
 */
export function buildEventTables(kind: string): readonly string[] {
  return kind === 'finished' ? ANSWER_TABLES.builds : ['builds', 'build_stages', 'build_commands', 'build_phases'];
}
