import { jest } from '@jest/globals';
import { access, mkdtemp, readFile, rm, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@kiln/shared';
import { CheckoutError, createGitCheckout, type Checkout } from '@kiln/agent';
import { createTestRepo, git, type TestRepo } from './helpers/index.js';

// Each case runs git several times: seconds on a loaded 2-core machine, not the default 5.
jest.setTimeout(60_000);

/** Checkouts through the mirror cache, against real git repositories. */
let root: string;
let repo: TestRepo;
let checkout: Checkout;
const logger = createLogger({ level: 'silent', pretty: false });

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-checkout-'));
  repo = await createTestRepo();
  checkout = createGitCheckout({ cacheDir: path.join(root, 'cache'), timeoutMs: 20_000, logger });
});
afterAll(async () => {
  await repo[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

const dir = (name: string): string => path.join(root, 'ws', name);
const exists = (file: string): Promise<boolean> =>
  access(file).then(
    () => true,
    () => false,
  );

describe('git checkout', () => {
  it('checks out a branch head shallowly and names its commit and author', async () => {
    const sha = await repo.pushBranch('zlib-1.3.1', { VERSION: '1.3.1\n' });
    const out = await checkout.checkout({ repo: repo.bare, branch: 'zlib-1.3.1' }, dir('a'));
    expect(out).toEqual({
      commit: sha,
      branch: 'zlib-1.3.1',
      author: { name: 'Test Maintainer', email: 'maintainer@example.org' },
      committedAt: Number(await git(repo.bare, 'log', '-1', '--format=%ct', sha)),
    });
    expect(await readFile(path.join(dir('a'), 'VERSION'), 'utf8')).toBe('1.3.1\n');
    expect(await git(dir('a'), 'rev-parse', '--is-shallow-repository')).toBe('true');
  });

  it('checks out the exact commit a job names even after the branch moved on', async () => {
    const first = await repo.pushBranch('moving-1.0', { f: 'one\n' });
    await repo.pushBranch('moving-1.0', { f: 'two\n' });
    const out = await checkout.checkout({ repo: repo.bare, branch: 'moving-1.0', commit: first }, dir('b'));
    expect(out.commit).toBe(first);
    expect(await readFile(path.join(dir('b'), 'f'), 'utf8')).toBe('one\n');
  });

  it('fetches a new head into the existing mirror (one mirror per repository)', async () => {
    const sha = await repo.pushBranch('later-2.0', { g: 'x\n' });
    const out = await checkout.checkout({ repo: repo.bare, branch: 'later-2.0' }, dir('c'));
    expect(out.commit).toBe(sha);
    expect(await readdir(path.join(root, 'cache', 'mirrors'))).toHaveLength(1);
  });

  it('builds the default branch when the job names none', async () => {
    const main = await git(repo.work, 'rev-parse', 'main');
    const out = await checkout.checkout({ repo: repo.bare }, dir('d'));
    expect(out).toMatchObject({ commit: main, branch: 'main' });
  });

  it('refuses unknown repositories, branches and commits with a reason', async () => {
    await expect(checkout.checkout({ repo: path.join(root, 'nope.git'), branch: 'x-1' }, dir('e'))).rejects.toThrow(
      CheckoutError,
    );
    await expect(checkout.checkout({ repo: repo.bare, branch: 'absent-1.0' }, dir('e'))).rejects.toThrow(
      /branch absent-1.0 does not exist/,
    );
    await expect(checkout.checkout({ repo: repo.bare, commit: 'f'.repeat(40) }, dir('e'))).rejects.toThrow(
      /commit f{40} is not in/,
    );
  });

  it('refuses plain http, remote helpers and option-looking input before running git', async () => {
    await expect(checkout.checkout({ repo: 'http://127.0.0.1:9/x.git' }, dir('f'))).rejects.toThrow(
      /uses "http", allowed are https, ssh, git, file/,
    );
    await expect(checkout.checkout({ repo: 'fd::3' }, dir('f'))).rejects.toThrow(
      /^repository uses a git remote helper \("::"\), which is not allowed$/,
    );
    await expect(checkout.checkout({ repo: repo.bare, branch: '--upload-pack=touch' }, dir('f'))).rejects.toThrow(
      /safe git branch/,
    );
  });

  it('refuses an ext:: location itself, where git run by hand would execute it', async () => {
    const pwned = path.join(root, 'pwned-by-checkout');
    const evil = path.join(root, 'evil.sh');
    await writeFile(evil, `#!/bin/sh\ntouch '${pwned}'\n`, { mode: 0o755 });
    const hostile = `ext::${evil}`;
    // The payload is live: plain git, on a host whose config allows ext (as a careless one may), runs it.
    await git(root, '-c', 'protocol.ext.allow=always', 'ls-remote', '--', hostile).catch(() => undefined);
    expect(await exists(pwned)).toBe(true);
    await rm(pwned);

    const mirrors = await readdir(path.join(root, 'cache', 'mirrors'));
    const err = await checkout.checkout({ repo: hostile }, dir('h')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckoutError);
    // Kiln's own rule said no (git's refusal of the transport would read "transport 'ext' not allowed") ...
    expect((err as Error).message).toBe('repository uses a git remote helper ("::"), which is not allowed');
    // ... before git ran at all: nothing executed, no mirror made for it.
    expect(await exists(pwned)).toBe(false);
    expect(await readdir(path.join(root, 'cache', 'mirrors'))).toEqual(mirrors);
  });

  it('fails at once, never prompting, when a server wants credentials; the token never shows', async () => {
    // Nothing listens on port 9: the point is that git gives up instead of asking, and the message is redacted.
    const err = await checkout
      .checkout({ repo: 'https://user:s3cret-token@127.0.0.1:9/x.git' }, dir('g'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckoutError);
    expect(String((err as Error).message)).not.toContain('s3cret-token');
  });
});
