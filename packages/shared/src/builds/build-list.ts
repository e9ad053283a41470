import type { Queryable } from '../db/queryable.js';
import type { BuildStatus } from '../report.js';
import { SUMMARY_COLUMNS, toSummary, type BuildSummary, type SummaryRow } from './build-summary.js';

export interface BuildFilter {
  package?: string;
  status?: BuildStatus;
  /** Debian arch name. */
  arch?: string;
  /** The repository as the build recorded it (its clone URL or path). */
  repo?: string;
  /** Builds older than this one (keyset pagination); none when no build has this id. */
  before?: string;
  /** 20 when not given. */
  limit?: number;
}

// One condition per filter, each a constant; only those given are in the statement, so each combination
// is a statement of its own with a plan that uses its index (builds_*_queued_idx, migration 005).
const CONDITIONS = {
  package: 'b.package_name = $',
  status: 'b.status = $',
  arch: 'b.arch = $',
  repo: 'b.repo = $',
  before: '(b.queued_at, b.id) < ((SELECT c.queued_at FROM builds c WHERE c.id = $::uuid), $::uuid)',
} as const;

/**
 * Builds newest first (by when they were queued, then id), a prepared
 * statement per combination of filters. `before` naming no build gives none.
 */
export async function listBuilds(db: Queryable, filter: BuildFilter = {}): Promise<BuildSummary[]> {
  const used = (Object.keys(CONDITIONS) as Array<keyof typeof CONDITIONS>).filter((key) => filter[key] !== undefined);
  const values: unknown[] = used.map((key) => filter[key]);
  const where = used.map((key, i) => CONDITIONS[key].replaceAll('$', `$${i + 1}`));
  values.push(filter.limit ?? 20);
  const { rows } = await db.query<SummaryRow>({
    name: `kiln-builds${used.map((key) => `-${key}`).join('')}`,
    text: `SELECT ${SUMMARY_COLUMNS} FROM builds b
            ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY b.queued_at DESC, b.id DESC LIMIT $${values.length}`,
    values,
  });
  return rows.map(toSummary);
}
