/// <reference lib="dom" />
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's chromium, which scripts/setup.sh installs; no browser is ever downloaded. */
export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Where tests write screenshots for people to look at (ignored by git). */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

/**
 * Headless Chromium. Playwright starts it with a fresh, temporary
 * --user-data-dir of its own (and removes it on close). A machine without
 * Chromium fails here, with what to do: the browser tests never skip.
 */
export async function launchChromium(): Promise<Browser & { [Symbol.asyncDispose](): Promise<void> }> {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch (err) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the web page's tests need Debian's chromium ("bash scripts/setup.sh" installs it, or apt-get install chromium)`,
      { cause: err },
    );
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  return Object.assign(browser, {
    async [Symbol.asyncDispose]() {
      await browser.close().catch(() => undefined);
    },
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and failed or foreign requests: a page that loads something from elsewhere shows here. */
  problems: string[];
}

/** A page in a context of its own, recording console errors, CSP reports and every request that leaves `origin`. */
export async function openPage(
  browser: Browser,
  origin: string,
  options: BrowserContextOptions = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) problems.push(`request to another origin: ${url}`);
  });
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? '';
    // An event stream closed on purpose, or a navigation away, is not a problem.
    if (!/ERR_ABORTED/.test(failure)) problems.push(`request failed: ${request.url()} ${failure}`);
  });
  return { page, context, problems };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE: string = (require('axe-core') as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/** axe-core's WCAG 2.1 A and AA checks (and its best practices) on the page as it is; the serious and critical ones. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Records layout shifts (the Layout Instability API) from the page's start; read them with `layoutShifts`. */
export async function watchLayoutShifts(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const shifts: Array<{ value: number; at: number; sources: string[] }> = [];
    (window as unknown as { kilnShifts: typeof shifts }).kilnShifts = shifts;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as Array<{
        value: number;
        hadRecentInput: boolean;
        startTime: number;
        sources?: Array<{ node?: Node }>;
      }>) {
        if (entry.hadRecentInput) continue;
        shifts.push({
          value: entry.value,
          at: entry.startTime,
          sources: (entry.sources ?? []).map((s) => {
            const el = s.node as Element | undefined;
            return el?.id ? `#${el.id}` : (el?.nodeName ?? '?');
          }),
        });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
}

export async function layoutShifts(page: Page): Promise<Array<{ value: number; at: number; sources: string[] }>> {
  return page.evaluate(
    () => (window as unknown as { kilnShifts: Array<{ value: number; at: number; sources: string[] }> }).kilnShifts,
  );
}
