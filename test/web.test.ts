/// <reference lib="dom" />
/**
 * The web page in a real browser (Debian's Chromium through playwright-core),
 * against kiln server with a real agent, Docker, PostgreSQL and RabbitMQ:
 * a build watched live, a failure and its email, search, the builds list and
 * its filters, a package's page, keyboard use, dark mode, 360 and 1440 px,
 * pages without JavaScript, and axe-core's accessibility checks.
 * Screenshots go to test-results/screenshots/ for people to look at.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createLogger } from '@kiln/shared';
import { LiveLog } from '@kiln/agent';
import { createToken } from '../packages/server/src/db/token-store.js';
import { PUBLIC_DIR } from '../packages/server/src/web/assets.js';
import { builds, publishJob, releaseRepo, startTestAgent, waitUntil } from './helpers/agent-fixtures.js';
import {
  launchChromium,
  layoutShifts,
  openPage,
  screenshot,
  seriousViolations,
  watchLayoutShifts,
} from './helpers/browser.js';
import {
  createSmtpSink,
  createTestDatabase,
  createTestVhost,
  freePort,
  type SmtpSink,
  type TestDatabase,
  type TestRepo,
  type TestVhost,
} from './helpers/index.js';
import { seedBuild, startTestServer } from './helpers/server-fixtures.js';

jest.setTimeout(180_000);

const LIVE_MANIFEST = [
  'image: kiln/busybox:latest',
  'stages: [build]',
  'build:',
  '  script:',
  '    - i=1; while [ $i -le 12 ]; do echo "tick $i"; i=$((i+1)); sleep 0.3; done',
  `    - printf '\\033[31mred text\\033[0m and \\033[1;32mbold green\\033[0m\\n'`,
  '    - echo "to stderr" >&2',
  `    - printf '#!/bin/sh\\necho hello\\n' > hello`,
  'install:',
  '  script:',
  '    - mkdir -p "$DESTDIR/usr/bin"',
  '    - cp hello "$DESTDIR/usr/bin/hello" && chmod 755 "$DESTDIR/usr/bin/hello"',
  '',
].join('\n');

const FAILING = [
  'image: kiln/busybox:latest',
  'package:',
  '  maintainer: Dev <dev@example.org>',
  'stages: [build]',
  'build:',
  '  script:',
  '    - echo about to fail',
  '    - exit 3',
  '',
].join('\n');

// Built twice (the second time in another directory): the file with the build path differs. A copy of the
// image's static busybox, setuid, gives the analysis its findings and the files table its ELF facts.
const CHECKED = [
  'image: kiln/busybox:latest',
  'verify: [reproducible]',
  'policy: { setuid: warn, static: warn }',
  'stages: [build]',
  'build:',
  '  script:',
  '    - pwd > where',
  'install:',
  '  script:',
  '    - mkdir -p "$DESTDIR/usr/bin" "$DESTDIR/usr/share/webcheck"',
  '    - cp /bin/busybox "$DESTDIR/usr/bin/bb" && chmod 4755 "$DESTDIR/usr/bin/bb"',
  '    - cp where "$DESTDIR/usr/share/webcheck/where"',
  // The second build's umask differs: a file's mode is made explicit, or it differs too.
  '    - echo same > "$DESTDIR/usr/share/webcheck/same" && chmod 644 "$DESTDIR/usr/share/webcheck/same"',
  '',
].join('\n');

let root: string;
let db: TestDatabase;
let vhost: TestVhost;
let smtp: SmtpSink;
let agent: Awaited<ReturnType<typeof startTestAgent>>;
let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let base: string;
const repos: TestRepo[] = [];

beforeAll(async () => {
  await access(new URL('app.js', PUBLIC_DIR)).catch((err: unknown) => {
    throw new Error('the web assets are not built: run "npm run build" first', { cause: err });
  });
  browser = await launchChromium();
  root = await mkdtemp(path.join(os.tmpdir(), 'kiln-web-'));
  [db, vhost, smtp] = await Promise.all([
    createTestDatabase('kiln_web'),
    createTestVhost('kiln-web'),
    createSmtpSink(),
  ]);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  agent = await startTestAgent({
    db,
    amqpUrl: vhost.url,
    agentId: 'web-agent',
    concurrency: 2,
    smtpUrl: smtp.url,
    env: { KILN_PUBLIC_URL: base },
  });
  server = await startTestServer({
    db,
    amqpUrl: vhost.url,
    port,
    env: { KILN_ARTIFACT_DIR: path.join(agent.dirs, 'artifacts') },
  });
});

afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  await server?.[Symbol.asyncDispose]();
  await agent?.[Symbol.asyncDispose]();
  await smtp?.[Symbol.asyncDispose]();
  await vhost?.[Symbol.asyncDispose]();
  await db?.[Symbol.asyncDispose]();
  for (const repo of repos) await repo[Symbol.asyncDispose]();
  await rm(root, { recursive: true, force: true });
});

/** A queued build row first (so its page can be open before the job is sent), then, with `send`, its job. */
async function queueBuild(name: string, manifest: string): Promise<{ id: string; send(): Promise<void> }> {
  const made = await releaseRepo(name, '1.0', manifest, root);
  repos.push(made.repo);
  const id = randomUUID();
  await db.pool.query(`INSERT INTO builds (id, repo, branch, status) VALUES ($1, $2, $3, 'queued')`, [
    id,
    made.repo.bare,
    made.branch,
  ]);
  return {
    id,
    send: () => publishJob(vhost.url, { id, repo: made.repo.bare, branch: made.branch, trigger: 'cli' }),
  };
}

async function finished(id: string): Promise<void> {
  await waitUntil(
    async () => (await builds(db.pool, "id = $1 AND status NOT IN ('queued', 'running')", [id])).length > 0,
    `build ${id} to finish`,
    120_000,
  );
}

/** Records when each log line appears on the page (the page's clock is this machine's clock). */
async function recordLines(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: Array<{ text: string; at: number }> = [];
    (window as unknown as { kilnSeen: typeof seen }).kilnSeen = seen;
    const note = (el: Element) => seen.push({ text: el.textContent ?? '', at: Date.now() });
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (!(node instanceof Element)) continue;
          if (node.matches('div[data-n]')) note(node);
          else node.querySelectorAll('div[data-n]').forEach(note);
        }
      }
    }).observe(document.getElementById('log')!, { childList: true, subtree: true });
  });
}

async function pageOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

let liveId: string;
let failedId: string;
let checkedId: string;

describe('a build watched live', () => {
  test('lines appear within 1 s of being stored, the status and files follow without a reload, nothing shifts', async () => {
    const build = await queueBuild('webhello', LIVE_MANIFEST);
    liveId = build.id;
    const { page, problems } = await openPage(browser, base);
    await watchLayoutShifts(page);
    await page.goto(`${base}/builds/${build.id}`);
    await page.waitForSelector('#facts[data-status="queued"]');
    await recordLines(page);
    await build.send();

    await page.waitForSelector('#facts[data-status="succeeded"]', { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelector('#files tbody')?.textContent?.includes('/usr/bin/hello'));
    expect(await page.textContent('#files tbody')).toContain('/usr/bin/hello');
    expect(await page.textContent('#files tbody')).toContain('0755');
    expect(await page.isVisible('#artifact')).toBe(true);
    expect(await page.textContent('#artifact')).toMatch(/webhello-1\.0-\w+\.tar\.gz[\s\S]*[0-9a-f]{64}/);

    // Each "tick N" line: when the page showed it against when the agent stored its row.
    const seen = await page.evaluate(
      () => (window as unknown as { kilnSeen: Array<{ text: string; at: number }> }).kilnSeen,
    );
    const { rows } = await db.pool.query<{ chunk: string; stored: number }>(
      `SELECT chunk, (extract(epoch FROM created_at) * 1000)::float8 AS stored FROM build_logs WHERE build_id = $1`,
      [build.id],
    );
    const delays: number[] = [];
    for (let i = 1; i <= 12; i++) {
      const shown = seen.find((s) => s.text === `tick ${i}`);
      const row = rows.find((r) => r.chunk.split('\n').includes(`tick ${i}`));
      expect(shown).toBeDefined();
      expect(row).toBeDefined();
      delays.push(shown!.at - row!.stored);
    }
    console.log(`web: tick lines shown ${delays.map((d) => Math.round(d)).join(', ')} ms after they were stored`);
    expect(Math.max(...delays)).toBeLessThan(1000);

    // Every line streamed in place: no layout shift while the log grew, the status changed and the files came.
    const shifts = await layoutShifts(page);
    expect(shifts).toEqual([]);

    // The stage strip and the timeline follow the build.
    expect(await page.textContent('#strip')).toMatch(/build[\s\S]*install/);
    expect(await page.textContent('#timeline')).toContain('sleep 0.3');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('ANSI colours, stderr and line anchors, in light and dark mode', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, problems } = await openPage(browser, base, { colorScheme });
      await page.goto(`${base}/builds/${liveId}#L3`);
      const red = page.locator('#log span.ansi-red-fg', { hasText: 'red text' });
      await red.waitFor();
      const colour = await red.evaluate((el) => getComputedStyle(el).color);
      expect(colour).toBe(colorScheme === 'light' ? 'rgb(179, 38, 30)' : 'rgb(255, 123, 114)');
      expect(await page.locator('#log span.ansi-green-fg', { hasText: 'bold green' }).count()).toBe(1);
      expect(await page.locator('#log div.e', { hasText: 'to stderr' }).count()).toBe(1);
      // Where the attempt's time went, once it ended.
      const phases = (await page.textContent('#phases'))!.replace(/\s+/g, ' ');
      expect(phases).not.toContain('install install');
      for (const phase of ['checkout', 'stage build', 'inspection', 'record']) expect(phases).toContain(phase);
      // The linked line is marked and in view.
      const line = page.locator('#L3');
      await expect(line.getAttribute('class')).resolves.toContain('hl');
      expect(await line.isVisible()).toBe(true);
      const inView = await line.evaluate((el) => {
        const pane = document.getElementById('log')!.getBoundingClientRect();
        const r = el.getBoundingClientRect();
        return r.top >= pane.top && r.bottom <= pane.bottom && r.bottom <= innerHeight;
      });
      expect(inView).toBe(true);
      // A click on a line's number links to it.
      const five = page.locator('#L5');
      const box = (await five.boundingBox())!;
      await page.mouse.click(box.x + 10, box.y + box.height / 2);
      expect(await page.evaluate(() => location.hash)).toBe('#L5');
      expect(await five.getAttribute('class')).toContain('hl');
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe(colorScheme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(15, 17, 21)');
      await screenshot(page, `build-1440-${colorScheme}`);
      expect(problems).toEqual([]);
      await page.context().close();
    }
  });
});

describe('a failed build', () => {
  test('shows the failing command and exit code at the top, linked to its log line; its email links to the page', async () => {
    const build = await queueBuild('webbroken', FAILING);
    failedId = build.id;
    await build.send();
    await finished(build.id);
    const [mail] = await smtp.waitForMessages(1, 60_000);
    const link = new RegExp(`${base.replace(/[.]/g, '\\.')}/builds/${build.id}`).exec(mail!.text)?.[0];
    expect(link).toBe(`${base}/builds/${build.id}`);

    const { page, problems } = await openPage(browser, base);
    await page.goto(link!);
    const failure = page.locator('#failure');
    expect(await failure.textContent()).toMatch(/Failed in stage\s+build[\s\S]*exit 3\s+exited with code\s+3/);
    const failureTop = (await failure.boundingBox())!.y;
    const logTop = (await page.locator('#log').boundingBox())!.y;
    const factsTop = (await page.locator('#facts').boundingBox())!.y;
    expect(failureTop).toBeLessThan(factsTop);
    expect(failureTop).toBeLessThan(logTop);
    await page.getByRole('link', { name: 'Show in the log' }).click();
    const marked = page.locator('#log div.hl');
    await marked.waitFor();
    expect(await marked.textContent()).toBe('$ exit 3');
    expect(await marked.isVisible()).toBe(true);
    await screenshot(page, 'build-failed-1440');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('a build checked twice, with its analysis', () => {
  test('shows reproducibility with the differing file and its difference, the documents, the analysis and ELF facts', async () => {
    // The previous version, for "what changed".
    const previous = await seedBuild(db.pool, {
      name: 'webcheck',
      version: '0.9',
      queuedAt: new Date(Date.now() - 3600_000),
      files: [{ path: '/usr/share/webcheck/old', sha256: 'c'.repeat(64) }],
    });
    const build = await queueBuild('webcheck', CHECKED);
    checkedId = build.id;
    await build.send();
    await finished(build.id);
    const api = (await (await fetch(`${base}/api/v1/builds/${build.id}`)).json()) as {
      status: string;
      reproducibility: { status: string; differing: string[]; url: string } | null;
      documents: Array<{ kind: string; url: string }>;
      analysis: { findings: Array<{ rule: string; path?: string }>; changes?: { against: string } } | null;
    };
    expect(api.status).toBe('succeeded');
    expect(api.reproducibility).toMatchObject({ status: 'unreproducible', differing: ['/usr/share/webcheck/where'] });
    expect(api.documents.map((d) => d.kind)).toContain('sbom');
    expect(api.analysis?.findings.map((f) => `${f.rule} ${f.path}`).sort()).toEqual([
      'setuid /usr/bin/bb',
      'static /usr/bin/bb',
    ]);
    expect(api.analysis?.changes?.against).toBe(previous);
    const changed = (await (await fetch(`${base}/api/v1/builds/${build.id}/diff`)).json()) as {
      files: { removed: Array<{ path: string }> };
    };
    expect(changed.files.removed.map((f) => f.path)).toEqual(['/usr/share/webcheck/old']);

    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/builds/${build.id}`);
    const trust = (await page.textContent('#trust'))!.replace(/\s+/g, ' ');
    expect(trust).toContain('unreproducible, 1 file differs');
    expect(trust).toContain('/usr/share/webcheck/where');
    expect(await page.locator('#documents a', { hasText: 'SBOM' }).getAttribute('href')).toBe(
      `/api/v1/builds/${build.id}/sbom`,
    );
    const analysis = (await page.textContent('#analysis'))!.replace(/\s+/g, ' ');
    expect(analysis).toMatch(/warn setuid \/usr\/bin\/bb/);
    expect(analysis).toMatch(/warn static \/usr\/bin\/bb/);
    expect(analysis).toContain('none: every needed library is provided');
    expect(analysis).toMatch(/\+3 added, −1 removed, 0 changed files/);
    expect(await page.locator('#analysis a', { hasText: 'the whole diff' }).getAttribute('href')).toBe(
      `/api/v1/builds/${build.id}/diff`,
    );
    expect(await page.locator('#analysis a', { hasText: 'the previous version' }).getAttribute('href')).toBe(
      `/builds/${previous}`,
    );
    // The files table: the static busybox copy is not PIE and is setuid.
    const bb = (await page.locator('#files tbody tr', { hasText: '/usr/bin/bb' }).locator('td.elf').textContent())!;
    expect(bb).toContain('no PIE');
    expect(bb).toContain('setuid');
    // The sections below the log, for people to look at, wide and narrow.
    await page.locator('#analysis').scrollIntoViewIfNeeded();
    await screenshot(page, 'build-checked-analysis-1440');
    await page.setViewportSize({ width: 360, height: 760 });
    await page.locator('#analysis').scrollIntoViewIfNeeded();
    await screenshot(page, 'build-checked-analysis-360');
    expect(await pageOverflow(page)).toBe(0);

    // The difference, one click away: diffoscope's text names both build directories.
    await page.locator('#trust a', { hasText: '/usr/share/webcheck/where' }).click();
    await page.waitForURL(new RegExp(`/builds/${build.id}/reproducibility#d0$`));
    const diff = (await page.textContent('#d0 pre'))!;
    expect(diff).toContain('/workspace');
    expect(diff).toMatch(/\/build\/reproducible-/);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('builds, packages and search', () => {
  let greetId: string;

  beforeAll(async () => {
    const day = 24 * 3600 * 1000;
    const start = Date.now() - 30 * day;
    for (const [i, version] of ['1.0', '1.1', '2.0'].entries()) {
      greetId = await seedBuild(db.pool, {
        name: 'libgreet',
        version,
        queuedAt: new Date(start + i * day),
        files: [
          {
            path: `/usr/lib/libgreet.so.${version}`,
            kind: 'shared-library',
            soname: 'libgreet.so.1',
            sha256: 'd'.repeat(64),
            needed: ['libc.so.6'],
          },
          { path: '/usr/include/greet.h', kind: 'other', sha256: 'e'.repeat(64) },
          { path: '/usr/bin/greet', kind: 'executable', needed: ['libgreet.so.1', 'libc.so.6'] },
        ],
      });
      await db.pool.query('UPDATE package_files SET size = length(path) * 1000 * $2 WHERE build_id = $1', [
        greetId,
        i + 1,
      ]);
      await db.pool.query('UPDATE packages SET installed_size = 10000 * $2 WHERE build_id = $1', [greetId, i + 1]);
      await db.pool.query('UPDATE builds SET duration_ms = 20000 * $2 WHERE id = $1', [greetId, i + 1]);
    }
    await seedBuild(db.pool, {
      name: 'greeter',
      version: '0.9',
      files: [{ path: '/usr/bin/greeter', kind: 'executable', needed: ['libgreet.so.1'] }],
    });
    await seedBuild(db.pool, { name: 'oldfail', version: '0.1', status: 'failed', queuedAt: new Date(start) });
  });

  test('search by a SONAME finds the package that provides it, and who needs it', async () => {
    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/`);
    await page.fill('#top-q', 'libgreet.so.1');
    await page.press('#top-q', 'Enter');
    await page.waitForURL(/\/search\?q=libgreet\.so\.1/);
    // Every current version of libgreet ships it.
    const providers = await page.locator('section[aria-labelledby="hits-title"] tbody tr th').allTextContents();
    expect(providers.map((p) => p.replace(/\s+/g, ' ').trim())).toEqual([
      expect.stringMatching(/^libgreet 1\.0/),
      expect.stringMatching(/^libgreet 1\.1/),
      expect.stringMatching(/^libgreet 2\.0/),
    ]);
    expect(await page.textContent('section[aria-labelledby="needs-title"]')).toMatch(/greeter[\s\S]*libgreet 2\.0/);
    await page.locator('section[aria-labelledby="hits-title"]').getByRole('link', { name: 'libgreet' }).first().click();
    await page.waitForURL(`${base}/packages/libgreet`);
    // By path and by sha256 from the same box.
    await page.goto(`${base}/search?q=${encodeURIComponent('/usr/bin/greeter')}`);
    expect(await page.textContent('#main')).toContain('greeter 0.9');
    await page.goto(`${base}/search?q=${'e'.repeat(64)}`);
    expect(await page.textContent('#main')).toContain('/usr/include/greet.h');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test("a package's page: versions × arch with their builds, a chart, provides, needs and needed by", async () => {
    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/packages/libgreet`);
    const versions = page.locator('table.versions tbody tr');
    expect(await versions.count()).toBe(3);
    expect(await versions.first().textContent()).toMatch(/2\.0\s+✓ succeeded/);
    expect(await page.locator('.chart').count()).toBe(2);
    expect(await page.locator('.chart').first().locator('rect').count()).toBe(3);
    expect(await page.getAttribute('.chart svg >> nth=0', 'aria-label')).toBe(
      'Installed size: 9.8 KiB in 1.0, 29 KiB in 2.0',
    );
    expect(await page.textContent('section[aria-labelledby="provides-title"]')).toContain('libgreet.so.1');
    expect(await page.textContent('section[aria-labelledby="needs-title"]')).toContain('libc.so.6');
    expect(await page.textContent('section[aria-labelledby="neededby-title"]')).toContain('greeter');
    // Files sorted by the keyboard: the Size header, twice, puts the largest first.
    const sizeHeader = page.locator('#files thead').getByRole('link', { name: 'Size' });
    await sizeHeader.focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('#files th[data-sort="size"]', 'aria-sort')).toBe('descending');
    expect(await page.textContent('#files tbody tr:first-child th')).toBe('/usr/lib/libgreet.so.2.0');
    // Filtered in place.
    await page.fill('#files input[name=q]', 'include');
    expect(await page.locator('#files tbody tr:not([hidden])').count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('q')).toBe('include');
    // An older version's files.
    await page.getByRole('link', { name: '1.0', exact: true }).click();
    expect(await page.textContent('#files tbody')).toContain('/usr/lib/libgreet.so.1.0');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('the builds list filters by status, package, arch and repository, and updates itself', async () => {
    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/`);
    await page.selectOption('select[name=status]', 'failed');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/status=failed/);
    const statuses = await page
      .locator('#builds-body tr')
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.status));
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    expect(new Set(statuses)).toEqual(new Set(['failed']));
    await page.goto(`${base}/?package=libgreet`);
    expect(await page.locator('#builds-body tr').count()).toBe(3);
    await page.goto(`${base}/`);
    await page.selectOption('select[name=repo]', { label: 'greeter' });
    await page.click('form.filters button[type=submit]');
    expect(await page.locator('#builds-body tr').count()).toBe(1);
    expect(await page.textContent('#builds-body')).toContain('greeter 0.9');

    // The unfiltered list, open while a build arrives and runs.
    await page.goto(`${base}/`);
    const id = await seedBuild(db.pool, { name: 'newcomer', version: '3.0', status: 'queued' });
    await page.waitForSelector(`#b-${id}[data-status="queued"]`, { timeout: 10_000 });
    expect(await page.textContent('#builds-news')).toBe('1 new build');
    await db.pool.query(`UPDATE builds SET status = 'running' WHERE id = $1`, [id]);
    await page.waitForSelector(`#b-${id}[data-status="running"]`, { timeout: 10_000 });
    expect(await page.locator('#builds-body tr').first().getAttribute('id')).toBe(`b-${id}`);

    // By arch: the server's own lists every build, another none.
    const arch = (await page.locator('select[name=arch] option').nth(1).getAttribute('value'))!;
    await page.selectOption('select[name=arch]', arch);
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(new RegExp(`arch=${arch}`));
    const arches = await page.locator('#builds-body tr td:nth-child(3)').allTextContents();
    expect(arches.length).toBeGreaterThanOrEqual(5);
    expect(new Set(arches)).toEqual(new Set([arch]));
    await page.goto(`${base}/?arch=${arch === 's390x' ? 'riscv64' : 's390x'}`);
    expect(await page.locator('#builds-body tr').count()).toBe(0);
    expect(await page.textContent('#main')).toContain('No builds match these filters');

    // A filtered list updates itself too, with the builds that match only.
    await page.goto(`${base}/?package=latecomer`);
    const late = await seedBuild(db.pool, { name: 'latecomer', version: '1.0', status: 'running' });
    const other = await seedBuild(db.pool, { name: 'bystander', version: '1.0', status: 'running' });
    await page.waitForSelector(`#b-${late}`, { timeout: 10_000 });
    await db.pool.query(`UPDATE builds SET status = 'failed' WHERE id = $1`, [late]);
    await page.waitForSelector(`#b-${late}[data-status="failed"]`, { timeout: 10_000 });
    expect(await page.locator(`#b-${other}`).count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('what is not there', () => {
  test('unknown pages, builds and packages are HTML 404 pages; the API and the repository keep their JSON', async () => {
    const { page } = await openPage(browser, base);
    const cases: Array<[string, string]> = [
      ['/no/such/page', 'Not found'],
      [`/builds/${randomUUID()}`, 'No such build'],
      ['/builds/not-a-build-id', 'No such build'],
      ['/packages/nosuchpackage', 'No such package'],
    ];
    for (const [url, title] of cases) {
      const res = (await page.goto(`${base}${url}`))!;
      expect({ url, status: res.status() }).toEqual({ url, status: 404 });
      expect(res.headers()['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers()['content-security-policy']).toContain("default-src 'none'");
      expect(await page.textContent('main h1')).toBe(title);
      expect(await page.getByRole('link', { name: 'All builds' }).count()).toBe(1);
      expect(await page.title()).toBe(`${title} · Kiln`);
    }
    await screenshot(page, 'not-found-1440');
    await page.context().close();
    for (const url of ['/api/v1/nope', `/api/v1/builds/${randomUUID()}`, '/repo/nope']) {
      const res = await fetch(`${base}${url}`, { headers: { accept: 'text/html,application/xhtml+xml,*/*' } });
      expect({ url, status: res.status }).toEqual({ url, status: 404 });
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
  });

  test("the OpenAPI document has the list's filters and none of the page's routes", async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string }> } }>;
    };
    const names = doc.paths['/api/v1/builds']?.get?.parameters?.filter((p) => p.in === 'query').map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['status', 'package', 'arch', 'repo', 'limit', 'before']));
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/') && !p.startsWith('/repo/'))).toEqual([]);
  });
});

describe('for people', () => {
  const pages = () => [
    { name: 'builds', url: `${base}/` },
    { name: 'build', url: `${base}/builds/${liveId}` },
    { name: 'build-failed', url: `${base}/builds/${failedId}` },
    { name: 'build-checked', url: `${base}/builds/${checkedId}` },
    { name: 'reproducibility', url: `${base}/builds/${checkedId}/reproducibility` },
    { name: 'package', url: `${base}/packages/libgreet` },
    { name: 'search', url: `${base}/search?q=libgreet.so.1` },
  ];

  test('axe finds no serious or critical violation, in light and dark mode', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, problems } = await openPage(browser, base, { colorScheme });
      for (const { name, url } of pages()) {
        await page.goto(url);
        const violations = await seriousViolations(page);
        expect({ page: name, colorScheme, violations }).toEqual({ page: name, colorScheme, violations: [] });
      }
      expect(problems).toEqual([]);
      await page.context().close();
    }
  });

  test('every page at 1440 px and at 360 px: screenshots, and nothing wider than the screen', async () => {
    for (const width of [1440, 360]) {
      const { page, problems } = await openPage(browser, base, {
        viewport: { width, height: width > 400 ? 900 : 760 },
      });
      for (const { name, url } of pages()) {
        await page.goto(url);
        await screenshot(page, `${name}-${width}`);
        // Streamed in pieces, the document still has its shape: the page's heading and content inside <main>.
        expect(
          await page.evaluate(() => document.querySelector('body > main > h1, body > main > article > h1') !== null),
        ).toBe(true);
        expect({ name, width, overflow: await pageOverflow(page) }).toEqual({ name, width, overflow: 0 });
      }
      expect(problems).toEqual([]);
      await page.context().close();
    }
  });

  test('keyboard: skip link, every control reachable with a visible focus, the log scrolls with End and Home', async () => {
    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/builds/${liveId}`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');
    const reached: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const style = getComputedStyle(el);
        return {
          name: el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}:${(el.textContent ?? '').trim().slice(0, 30)}`,
          outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px',
        };
      });
      expect(focus).toEqual({ name: focus.name, outline: true });
      reached.push(focus.name);
      if (focus.name === '#log') break;
    }
    expect(reached).toEqual(
      expect.arrayContaining(['#top-q', expect.stringMatching(/^summary:Stages and commands/), '#log']),
    );
    const scroll = () => page.evaluate(() => document.getElementById('log')!.scrollTop);
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.getElementById('log')!.scrollTop === 0);
    await page.keyboard.press('End');
    await page.waitForFunction(() => {
      const log = document.getElementById('log')!;
      return log.scrollTop + log.clientHeight >= log.scrollHeight - 1;
    });
    expect(await scroll()).toBeGreaterThanOrEqual(0);
    // A stage's section folds from the keyboard.
    await page.focus('#log details.sect > summary');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (document.querySelector('#log details.sect') as HTMLDetailsElement).open)).toBe(
      false,
    );
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('without JavaScript the pages work read-only: the log, the files and their sorting', async () => {
    const { page, problems } = await openPage(browser, base, { javaScriptEnabled: false });
    await page.goto(`${base}/builds/${liveId}`);
    expect(await page.textContent('#log')).toContain('tick 12');
    expect(await page.textContent('#files tbody')).toContain('/usr/bin/hello');
    await page.goto(`${base}/packages/libgreet`);
    await page.locator('#files thead').getByRole('link', { name: 'Size' }).click();
    await page.locator('#files thead').getByRole('link', { name: 'Size' }).click();
    expect(new URL(page.url()).searchParams.get('order')).toBe('desc');
    expect(await page.textContent('#files tbody tr:first-child th')).toBe('/usr/lib/libgreet.so.2.0');
    await page.goto(`${base}/?status=failed`);
    expect(await page.textContent('#builds-body')).toContain('webbroken');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  test('a long log: blocks off screen are skipped, the last line is shown and a far line opens by its anchor', async () => {
    const id = await seedBuild(db.pool, { name: 'longlog', version: '1.0' });
    const log = new LiveLog({
      db: db.pool,
      buildId: id,
      attempt: 1,
      limitBytes: 50_000_000,
      logger: createLogger({ level: 'silent' }),
    });
    for (let i = 1; i <= 3000; i++)
      log.append({ stage: i <= 1500 ? 'build' : 'test', stream: 'stdout', text: `line ${i}\n`, at: Date.now() });
    await log.close();
    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/builds/${id}`);
    expect(await page.locator('#log div[data-n]').count()).toBe(3000);
    expect(await page.textContent('#log-count')).toBe('3,000 lines');
    expect(await page.locator('#L3000').isVisible()).toBe(true);
    expect(await page.locator('#log details.sect').count()).toBe(2);
    await page.goto(`${base}/builds/${id}#L700`);
    await page.waitForFunction(() => document.getElementById('L700')?.classList.contains('hl'));
    expect(await page.textContent('#L700')).toBe('line 700');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('rebuild and cancel from the page, with a token entered', () => {
  /** Opens the page's actions, keeps `token` for the tab, and waits until `button` can be pressed. */
  async function useToken(page: Page, token: string, button: '#rebuild' | '#cancel'): Promise<void> {
    if (!(await page.locator('#actions').evaluate((d) => (d as HTMLDetailsElement).open))) {
      await page.click('#actions > summary');
    }
    await page.fill('#token', token);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector(`${button}:not([disabled])`);
  }

  test('Rebuild makes a new build of the same commit and opens it; a read token is refused with the reason', async () => {
    const admin = (await createToken(db.pool, 'web-admin', 'admin')).token;
    const read = (await createToken(db.pool, 'web-read', 'read')).token;
    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/builds/${failedId}`);
    expect(await page.isDisabled('#rebuild')).toBe(true);
    await useToken(page, read, '#rebuild');
    await page.click('#rebuild');
    await page.waitForFunction(() => document.getElementById('action-message')?.textContent?.startsWith('Refused'));
    expect(await page.textContent('#action-message')).toMatch(/scope read; this needs submit/);
    await page.click('#forget');
    await page.waitForSelector('#rebuild[disabled]');

    await useToken(page, admin, '#rebuild');
    await page.click('#rebuild');
    await page.waitForURL((url) => /^\/builds\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(failedId));
    const newId = new URL(page.url()).pathname.split('/').pop()!;
    const { rows } = await db.pool.query<{ rebuild_of: string }>(
      'SELECT rebuild_of::text AS rebuild_of FROM builds WHERE id = $1',
      [newId],
    );
    expect(rows).toEqual([{ rebuild_of: failedId }]);
    // The new build runs on the agent while its page is open, and fails as the first did.
    await page.waitForSelector('#facts[data-status="failed"]', { timeout: 120_000 });
    expect(await page.textContent('#failure')).toMatch(/exit 3\s+exited with code\s+3/);
    // The token stays for the tab: the new build's page can act at once.
    expect(await page.isDisabled('#rebuild')).toBe(false);
    // The page is the rebuild's: it links back to the build it repeats.
    expect(await page.getAttribute('#facts a[href^="/builds/"]', 'href')).toBe(`/builds/${failedId}`);
    // The refused request is the only problem the browser reported.
    expect(problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
    await page.context().close();
  });

  test('Cancel on a running build stops it: the page shows it cancelled', async () => {
    const admin = (await createToken(db.pool, 'web-cancel', 'admin')).token;
    const build = await queueBuild(
      'websleep',
      [
        'image: kiln/busybox:latest',
        'stages: [build]',
        'build:',
        '  script:',
        '    - echo sleeping; sleep 300',
        '',
      ].join('\n'),
    );
    const { page, problems } = await openPage(browser, base);
    await page.goto(`${base}/builds/${build.id}`);
    await build.send();
    await page.waitForSelector('#log div[data-n]:text-is("sleeping")', { timeout: 120_000 });
    expect(await page.getAttribute('#facts', 'data-status')).toBe('running');
    await useToken(page, admin, '#cancel');
    await page.click('#cancel');
    await page.waitForSelector('#facts[data-status="cancelled"]', { timeout: 60_000 });
    const [row] = await builds(db.pool, 'id = $1', [build.id]);
    expect(row).toMatchObject({ status: 'cancelled' });
    // Once it ended there is nothing left to cancel.
    await page.waitForSelector('#cancel[disabled]');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
