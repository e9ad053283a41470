// What queueing a failure email adds to the agent's result transaction (the
// ack waits for that transaction, never for SMTP): the same transaction with
// and without queueFailureNotification, with the SMTP server down throughout.
// Run: npx tsx bench/notify-queue.ts
import { randomUUID } from 'node:crypto';
import { withTransaction, type Queryable } from '@kiln/shared';
import { queueFailureNotification } from '../packages/agent/src/notify/index.js';
import { createTestDatabase } from '../test/helpers/database.js';

const ROUNDS = 300;

await using db = await createTestDatabase('kiln_bench_notify');

async function failedBuild(): Promise<string> {
  const id = randomUUID();
  await db.pool.query(
    `INSERT INTO builds (id, repo, branch, package_name, package_version, status, attempt, started_at)
     VALUES ($1, 'https://git.example.org/zlib.git', 'zlib-1.3.1', 'zlib', $2, 'running', 1, now())`,
    [id, `1.3.${Math.floor(Math.random() * 1e9)}`],
  );
  return id;
}

async function finish(tx: Queryable, id: string): Promise<void> {
  await tx.query(
    `UPDATE builds SET status = 'failed', finished_at = now(), error = 'build: make exited 2',
            failed_stage = 'build', failed_command = 'make', exit_code = 2 WHERE id = $1`,
    [id],
  );
}

async function measure(withEmail: boolean, repeatWindowMs?: number): Promise<number> {
  const ids = await Promise.all(Array.from({ length: ROUNDS }, failedBuild));
  const start = process.hrtime.bigint();
  for (const id of ids) {
    await withTransaction(db.pool, async (tx) => {
      await finish(tx, id);
      if (withEmail) {
        await queueFailureNotification(tx, { buildId: id, maintainer: 'Jane <jane@example.org>' }, { repeatWindowMs });
      }
    });
  }
  return Number(process.hrtime.bigint() - start) / 1e6 / ROUNDS;
}

await measure(true); // warm-up
const baseline = await measure(false);
const queued = await measure(true);
const noDigest = await measure(true, 0);
console.log(`result transaction alone:                  ${baseline.toFixed(3)} ms`);
console.log(`with the failure email queued:             ${queued.toFixed(3)} ms (${(queued / baseline).toFixed(2)}x)`);
console.log(
  `queued, repeat detection off:              ${noDigest.toFixed(3)} ms (${(noDigest / baseline).toFixed(2)}x)`,
);
console.log('SMTP is not contacted in either: the sender delivers after the commit.');
