import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ANSWER_TABLES } from './answer-tables.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** Every table the migrations create. */
async function databaseTables(): Promise<Set<string>> {
  const folder = `${root}packages/shared/migrations/`;
  const tables = new Set<string>();
  for (const file of await readdir(folder)) {
    const sql = await readFile(folder + file, 'utf8');
    for (const m of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)/gi)) tables.add(m[1]!.toLowerCase());
  }
  return tables;
}

/** The tables the SQL in `files` reads (FROM and JOIN), those derived from others left out. */
async function tablesRead(files: string[], known: Set<string>): Promise<string[]> {
  const read = new Set<string>();
  for (const file of files) {
    const source = await readFile(root + file, 'utf8');
    for (const m of source.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)/g)) if (known.has(m[1]!)) read.add(m[1]!);
  }
  read.delete('package_needs'); // kept by triggers on package_files and packages, in their transactions
  return [...read].sort();
}

// Which files hold the SQL each kind of kept answer runs; a new query file of one of them belongs here.
const SOURCES: Record<keyof typeof ANSWER_TABLES, string[]> = {
  builds: [
    'packages/shared/src/builds/build-list.ts',
    'packages/shared/src/builds/build-details.ts',
    'packages/shared/src/builds/build-summary.ts',
    'packages/server/src/db/build-queries.ts',
  ],
  packages: ['packages/server/src/db/package-queries.ts', 'packages/server/src/db/file-rows.ts'],
  search: ['packages/server/src/db/search-queries.ts', 'packages/server/src/db/file-rows.ts'],
  searchEmbeds: ['packages/server/src/db/search-queries.ts', 'packages/server/src/db/file-rows.ts'],
};

describe('ANSWER_TABLES', () => {
  test('names every table the queries of each kind of answer read', async () => {
    const known = await databaseTables();
    expect(known.has('builds')).toBe(true);
    for (const [kind, files] of Object.entries(SOURCES)) {
      const declared = ANSWER_TABLES[kind as keyof typeof ANSWER_TABLES] as readonly string[];
      const missing = (await tablesRead(files, known)).filter((t) => !declared.includes(t));
      // search-queries.ts holds the embeds query too, which alone reads builds.
      const expected = kind === 'search' ? ['builds'] : [];
      expect({ kind, missing }).toEqual({ kind, missing: expected });
    }
  });

  test('names only tables that exist', async () => {
    const known = await databaseTables();
    for (const tables of Object.values(ANSWER_TABLES))
      for (const t of tables) expect({ t, known: known.has(t) }).toEqual({ t, known: true });
  });
});
