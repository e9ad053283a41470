// The chaos suite's long run (the short one is test/chaos.test.ts, same code):
//
//   npm run chaos -- --jobs 1000 --faults 60 [--seed N] [--agents 3] [--concurrency 2] [--window SECONDS] [--logs DIR]
//
// --window: the seconds over which jobs arrive (default 0.9 a job); --logs: keep every
// agent's and crawler's log lines there.
//
// Needs root (network namespaces), Docker with kiln/busybox, RabbitMQ and
// PostgreSQL 15 installed (it starts nodes of its own; the shared services are
// not touched) and a build (`npm run build`). Prints what happens, then the
// counts; exits 1 when a count that must be 0 is not.
import { parseArgs } from 'node:util';
import { runChaos } from '../test/helpers/chaos/run-chaos.js';
import { seededRandom } from '../test/helpers/seeded-random.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    faults: { type: 'string', default: '60' },
    seed: { type: 'string' },
    agents: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '2' },
    window: { type: 'string' },
    logs: { type: 'string' },
  },
});
const number = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number above 0, got ${text}`);
  return n;
};
const jobs = number('jobs', values.jobs);
if (values.seed !== undefined) process.env.KILN_TEST_SEED = String(number('seed', values.seed));
const say = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const report = await runChaos({
  jobs,
  faults: number('faults', values.faults),
  agents: number('agents', values.agents),
  concurrency: number('concurrency', values.concurrency),
  random: seededRandom('chaos'),
  windowMs: (values.window ? number('window', values.window) : Math.ceil(jobs * 0.9)) * 1000,
  settleMs: 900_000,
  say,
  logDir: values.logs,
});
if (report.failures.length > 0) {
  say(`FAILED: ${report.failures.join(', ')}`);
  process.exitCode = 1;
}
