/**
 * The chaos suite, short run: 200 small jobs (several packages, successes and
 * failures; pushes the crawler's poll finds, pushes announced by webhooks,
 * JSON drops) flow through a farm of the test's own (agents on test hosts of
 * their own, see helpers/netns.ts) while a seeded schedule kills agents and
 * the crawler with -9, stops RabbitMQ, restarts PostgreSQL, partitions agents
 * and takes the mail server down. The checker then counts what was lost,
 * doubled, stuck or left behind; every count must be 0. The long run is the
 * same code: `npm run chaos -- --jobs 1000 --faults 60` (see the README).
 */
import { jest } from '@jest/globals';
import { runChaos } from './helpers/chaos/run-chaos.js';
import { seededRandom } from './helpers/seeded-random.js';

jest.setTimeout(900_000);

test('200 jobs through kill -9, a broker stop, a database restart, partitions and a mail outage: nothing lost, nothing doubled', async () => {
  const random = seededRandom('chaos');
  const report = await runChaos({
    jobs: 200,
    faults: 8,
    agents: 3,
    concurrency: 2,
    random,
    windowMs: 90_000,
    settleMs: 300_000,
    logDir: process.env.KILN_CHAOS_LOG_DIR,
    say: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
  });
  // Every kind of fault was injected.
  expect(new Set(report.faults.map((f) => f.kind)).size).toBe(6);
  expect(report.counts.submitted).toBe(200);
  expect(report.counts.recorded).toBe(200);
  expect(report.failures).toEqual([]);
});
