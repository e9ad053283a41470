/// <reference lib="dom" />
/**
 * The web page of a server that wants a token for reads (KILN_HTTP_AUTH=read),
 * in Debian's Chromium: a page asks for a token, the browser keeps it for the
 * session in a cookie the server takes for reads only, and the live parts
 * (the log's event stream, the list's updates) work with it.
 */
import { jest } from '@jest/globals';
import { createLogger } from '@kiln/shared';
import { LiveLog } from '@kiln/agent';
import { createToken, revokeToken } from '../packages/server/src/db/token-store.js';
import { launchChromium, openPage, screenshot, seriousViolations } from './helpers/browser.js';
import { createTestDatabase, createTestVhost, type TestDatabase, type TestVhost } from './helpers/index.js';
import { seedBuild, startTestServer } from './helpers/server-fixtures.js';

jest.setTimeout(120_000);

let db: TestDatabase;
let vhost: TestVhost;
let server: Awaited<ReturnType<typeof startTestServer>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let base: string;
let reader: string;
let runningId: string;

beforeAll(async () => {
  browser = await launchChromium();
  [db, vhost] = await Promise.all([createTestDatabase('kiln_web_access'), createTestVhost('kiln-web-access')]);
  server = await startTestServer({ db, amqpUrl: vhost.url, env: { KILN_HTTP_AUTH: 'read' } });
  base = server.url;
  reader = (await createToken(db.pool, 'reader', 'read')).token;
  await seedBuild(db.pool, { name: 'closedpkg', version: '1.0', files: [{ path: '/usr/bin/closed' }] });
  runningId = await seedBuild(db.pool, { name: 'liverun', version: '2.0', status: 'running' });
  await db.pool.query('UPDATE builds SET finished_at = NULL, duration_ms = NULL WHERE id = $1', [runningId]);
});

afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  await server?.[Symbol.asyncDispose]();
  await vhost?.[Symbol.asyncDispose]();
  await db?.[Symbol.asyncDispose]();
});

test('a page asks for a token and keeps it for the session; the live log and the list work with it', async () => {
  const { page, context } = await openPage(browser, base);
  const first = (await page.goto(`${base}/builds/${runningId}`))!;
  expect(first.status()).toBe(401);
  expect(first.headers()['content-type']).toBe('text/html; charset=utf-8');
  expect(await page.textContent('main h1')).toBe('A token is needed to read');
  expect(await page.textContent('body')).not.toContain('liverun');
  expect(await seriousViolations(page)).toEqual([]);
  await screenshot(page, 'sign-in-1440');

  // A wrong token: the form again, saying so.
  await page.fill('input[name=token]', 'kiln_not-a-real-token');
  await page.click('main form button[type=submit]');
  expect(await page.textContent('main [role=alert]')).toContain('not valid');

  await page.fill('input[name=token]', reader);
  await page.click('main form button[type=submit]');
  await page.waitForURL(`${base}/builds/${runningId}`);
  await page.waitForSelector('#facts[data-status="running"]');
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: 'kiln_read', value: reader, httpOnly: true, sameSite: 'Strict', expires: -1 });

  // The log's event stream is a read with the cookie: lines stored now appear.
  const log = new LiveLog({
    db: db.pool,
    buildId: runningId,
    attempt: 1,
    limitBytes: 1_000_000,
    logger: createLogger({ level: 'silent' }),
  });
  log.append({ stage: 'build', stream: 'stdout', text: 'only for readers\n', at: Date.now() });
  await log.close();
  await page.waitForSelector('#log div[data-n]:text-is("only for readers")', { timeout: 15_000 });

  // The builds list, and its updates (fetched with the cookie).
  await page.goto(`${base}/`);
  expect(await page.textContent('#builds-body')).toContain('closedpkg 1.0');
  const late = await seedBuild(db.pool, { name: 'latecomer', version: '1.0', status: 'queued' });
  await page.waitForSelector(`#b-${late}`, { timeout: 15_000 });

  // A revoked token ends the session at the next page.
  await revokeToken(db.pool, 'reader');
  const again = (await page.goto(`${base}/packages/closedpkg`))!;
  expect(again.status()).toBe(401);
  expect(await page.textContent('main [role=alert]')).toContain('not valid');
  await context.close();
});

test('the cookie is taken for reads only, never for writes; JSON clients and assets are as before', async () => {
  const token = (await createToken(db.pool, 'admin-in-cookie', 'admin')).token;
  const cookie = { cookie: `kiln_read=${token}` };
  expect((await fetch(`${base}/api/v1/builds`, { headers: cookie })).status).toBe(200);
  const write = await fetch(`${base}/api/v1/builds/${runningId}/cancel`, { method: 'POST', headers: cookie });
  expect(write.status).toBe(401);
  // Without a token the API answers JSON, also to a browser; the page's assets need none.
  const api = await fetch(`${base}/api/v1/builds`, { headers: { accept: 'text/html,*/*' } });
  expect(api.status).toBe(401);
  expect(((await api.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  expect((await fetch(`${base}/assets/style.css`)).status).toBe(200);
});

test('after signing in the browser goes back to a page of this server only', async () => {
  const token = (await createToken(db.pool, 'reader-2', 'read')).token;
  const signIn = (next: string) =>
    fetch(`${base}/session`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, next }).toString(),
    });
  for (const [next, to] of [
    ['/packages/closedpkg?version=1.0', '/packages/closedpkg?version=1.0'],
    ['//elsewhere.example.org/x', '/'],
    ['/\\elsewhere.example.org', '/'],
    ['https://elsewhere.example.org/', '/'],
  ]) {
    const res = await signIn(next!);
    expect({ next, status: res.status, location: res.headers.get('location') }).toEqual({
      next,
      status: 303,
      location: to,
    });
    expect(res.headers.get('set-cookie')).toMatch(/^kiln_read=kiln_[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
  }
});

test('the sign-in page at 360 px', async () => {
  const { page } = await openPage(browser, base, { viewport: { width: 360, height: 760 } });
  await page.goto(`${base}/`);
  await screenshot(page, 'sign-in-360');
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(
    0,
  );
  await page.context().close();
});
