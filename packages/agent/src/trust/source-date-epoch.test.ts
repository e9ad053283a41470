import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runGit } from '@kiln/shared';
import { checkoutSourceDate, parseEpoch, withSourceDateEpoch } from './source-date-epoch.js';

const run = promisify(execFile);
const gitOf = (args: string[], cwd: string) => runGit(args, { cwd, timeoutMs: 5000 });

describe('SOURCE_DATE_EPOCH', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-sde-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("kiln run's: the HEAD commit's time, not the author's nor now", async () => {
    await writeFile(path.join(dir, 'a'), 'a\n');
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.org',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.org',
      GIT_AUTHOR_DATE: '@1500000000 +0000',
      GIT_COMMITTER_DATE: '@1600000000 +0200',
    };
    await run('git', ['init', '-q'], { cwd: dir, env });
    await run('git', ['add', '-A'], { cwd: dir, env });
    await run('git', ['commit', '-qm', 'one'], { cwd: dir, env });
    expect(await checkoutSourceDate(dir, { SOURCE_DATE_EPOCH: '5' }, gitOf)).toEqual({
      epoch: 1600000000,
      from: 'commit',
    });
  });

  test('without a commit: the caller’s SOURCE_DATE_EPOCH, else now', async () => {
    expect(await checkoutSourceDate(dir, { SOURCE_DATE_EPOCH: '1234' }, gitOf)).toEqual({
      epoch: 1234,
      from: 'environment',
    });
    const before = Math.floor(Date.now() / 1000);
    const now = await checkoutSourceDate(dir, { SOURCE_DATE_EPOCH: 'yesterday' }, gitOf);
    expect(now.from).toBe('now');
    expect(now.epoch).toBeGreaterThanOrEqual(before);
  });

  test('is exported first (the manifest may set its own) and only when known', () => {
    const env = { vars: [{ name: 'A', value: '1' }], secrets: [], notes: [] };
    expect(withSourceDateEpoch(env, 42).vars).toEqual([
      { name: 'SOURCE_DATE_EPOCH', value: '42' },
      { name: 'A', value: '1' },
    ]);
    expect(withSourceDateEpoch(env, undefined)).toBe(env);
    const own = { ...env, vars: [{ name: 'SOURCE_DATE_EPOCH', value: '7' }] };
    expect(withSourceDateEpoch(own, 42)).toBe(own);
    expect(parseEpoch(' 1600000000\n')).toBe(1600000000);
    expect(parseEpoch('-1')).toBeUndefined();
  });
});
