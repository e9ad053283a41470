/// <reference lib="dom" />
// The build page of a 50,000-line log in Debian's Chromium (headless, as the
// browser tests run it): time to first contentful paint and to the last line
// visible (the log pane scrolled to its tail, the line painted). Goals:
// < 1 s and < 2 s. Baselines in the same run, same browser, same lines:
//   static: the very bytes kiln server sent for the page, served from memory
//           by a bare node:http server (what the browser alone costs for
//           this markup, without the database and the streaming render);
//   pre:    the 50,000 lines as one <pre> with no style sheet and no script
//           (the floor for putting this much text on a screen).
// Also: the page's HTML size, time to the last byte, main-thread long tasks,
// and a scroll through the whole log in 40 jumps (frame time per jump).
// Then the live case: the page of a running build open while 50,000 lines
// are stored in the agent's batches, time until the last one shows.
// Run: npx tsx bench/web-log.ts   (about 2 minutes; BENCH_RUNS=N, default 5)
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Browser, BrowserContext } from 'playwright-core';
import { LiveLog } from '@kiln/agent';
import { createLogger } from '@kiln/shared';
import { PUBLIC_DIR } from '../packages/server/src/web/assets.js';
import { escapeHtml } from '../packages/server/src/web/html.js';
import { launchChromium } from '../test/helpers/browser.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { createTestVhost } from '../test/helpers/broker.js';
import { seedBuild, startTestServer } from '../test/helpers/server-fixtures.js';

const LINES = 50_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const VIEWPORT = { width: 1440, height: 900 };

/** A browser context; tsx names the functions it compiles with a helper the page lacks, so the page gets one. */
async function newContext(b: Browser): Promise<BrowserContext> {
  const context = await b.newContext({ viewport: VIEWPORT });
  await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  return context;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`machine: ${os.cpus().length} cores, load ${load()} at the start`);

/** A compiler's log: mostly short lines, warnings in colour on stderr, a `$ command` line per command. */
function logLines(): Array<{ stage: string; stream: 'stdout' | 'stderr' | 'system'; text: string }> {
  const out: Array<{ stage: string; stream: 'stdout' | 'stderr' | 'system'; text: string }> = [];
  const stages: Array<[string, number]> = [
    ['build', 40_000],
    ['test', 9_000],
    ['install', 1_000],
  ];
  let n = 0;
  for (const [stage, count] of stages) {
    for (let i = 0; i < count; i++) {
      n++;
      if (i % 5000 === 0) out.push({ stage, stream: 'system', text: `$ make -j2 ${stage} part=${i / 5000}` });
      else if (i % 97 === 0)
        out.push({
          stage,
          stream: 'stderr',
          text: `src/mod${i % 300}/file${i}.c:${i % 400}:12: \x1b[35mwarning:\x1b[0m unused variable 'tmp${i}' [\x1b[35m-Wunused-variable\x1b[0m]`,
        });
      else out.push({ stage, stream: 'stdout', text: `  CC       src/mod${i % 300}/file${i}.o   (${n})` });
    }
  }
  return out.slice(0, LINES);
}

await using db = await createTestDatabase('kiln_bench_web');
await using vhost = await createTestVhost('kiln-bench-web');
const lines = logLines();
const id = await seedBuild(db.pool, { name: 'biglog', version: '1.0' });
await storeLog(id, lines);
await using server = await startTestServer({ db, amqpUrl: vhost.url });
await using browser = await launchChromium();

/** The log as the agent stores it: its live log, in its batches and rows. */
async function storeLog(buildId: string, rows: typeof lines, paced = false): Promise<void> {
  const log = new LiveLog({
    db: db.pool,
    buildId,
    attempt: 1,
    limitBytes: 100_000_000,
    logger: createLogger({ level: 'silent' }),
  });
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    log.append({ stage: row.stage, stream: row.stream, text: `${row.text}\n`, at: Date.now() });
    // Live: 5,000 lines a second, as a noisy build prints them.
    if (paced && i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await log.close();
}

// The baselines: the page's own bytes, and a bare <pre>, from a server that only hands out buffers.
const pageUrl = `${server.url}/builds/${id}`;
const sent = Buffer.from(await (await fetch(pageUrl)).arrayBuffer());
const pre = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>log</title></head><body>' +
    '<pre id="log" style="height:72vh;overflow:auto;margin:0">' +
    lines
      .map((l, i) => {
        const text = escapeHtml(l.text.replace(/\x1b\[[0-9;]*m/g, '')); // eslint-disable-line no-control-regex
        return i === lines.length - 1 ? `<span id="L${LINES}">${text}</span>` : `${text}\n`;
      })
      .join('') +
    '</pre><script>const p=document.getElementById("log");p.scrollTop=p.scrollHeight;</script></body></html>',
);
const assets = new Map<string, Buffer>();
for (const name of ['app.js', 'style.css', 'icon.svg']) assets.set(name, await readFile(new URL(name, PUBLIC_DIR)));
const TYPES: Record<string, string> = { js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml' };
const statics: Server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://x');
  const asset = url.pathname.startsWith('/assets/') ? assets.get(url.pathname.slice(8)) : undefined;
  const body = asset ?? (url.pathname === '/pre' ? pre : url.pathname.startsWith('/builds/') ? sent : null);
  if (!body) {
    response.writeHead(404).end();
    return;
  }
  const type = asset ? TYPES[url.pathname.split('.').pop()!]! : 'text/html; charset=utf-8';
  response.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
});
await new Promise<void>((resolve) => statics.listen(0, '127.0.0.1', resolve));
const staticBase = `http://127.0.0.1:${(statics.address() as { port: number }).port}`;
console.log(
  `page: ${(sent.length / 1048576).toFixed(1)} MiB of HTML for ${LINES.toLocaleString('en')} lines; ` +
    `bare <pre>: ${(pre.length / 1048576).toFixed(1)} MiB`,
);

interface Timing {
  fcp: number;
  last: number;
  firstByte: number;
  lastByte: number;
  /** When the style sheet, which holds the first paint back, had arrived. */
  style: number;
  longTasks: number;
  longest: number;
  inWindow: boolean;
}

/**
 * From navigation start: first contentful paint, and the first frame after
 * one in which the last line lay inside the log pane's visible area (so it
 * was painted). Checked every frame by a script the page does not know of.
 */
async function measure(b: Browser, url: string, lastId: string): Promise<Timing> {
  const context = await newContext(b);
  const page = await context.newPage();
  await page.addInitScript((last: string) => {
    const t = { fcp: 0, last: 0, longTasks: 0, longest: 0, inWindow: false };
    (window as unknown as { kilnBench: typeof t }).kilnBench = t;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') t.fcp = e.startTime;
    }).observe({ type: 'paint', buffered: true });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        t.longTasks += e.duration;
        t.longest = Math.max(t.longest, e.duration);
      }
    }).observe({ type: 'longtask', buffered: true });
    const check = () => {
      const line = document.getElementById(last);
      const pane = document.getElementById('log');
      if (line && pane) {
        const r = line.getBoundingClientRect();
        const p = pane.getBoundingClientRect();
        if (r.height > 0 && r.top >= p.top - 1 && r.bottom <= p.bottom + 1) {
          t.inWindow = r.bottom <= innerHeight;
          requestAnimationFrame(() => (t.last = performance.now()));
          return;
        }
      }
      requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  }, lastId);
  await page.goto(url, { waitUntil: 'commit' });
  try {
    await page.waitForFunction(() => (window as unknown as { kilnBench: Timing }).kilnBench.last > 0, undefined, {
      timeout: 60_000,
      polling: 100,
    });
  } catch (err) {
    const state = await page.evaluate((last: string) => {
      const pane = document.getElementById('log');
      return {
        scroll: pane && [pane.scrollTop, pane.scrollHeight, pane.clientHeight],
        pane: pane?.getBoundingClientRect().toJSON() as unknown,
        line: document.getElementById(last)?.getBoundingClientRect().toJSON() as unknown,
      };
    }, lastId);
    throw new Error(`${url}: the last line never showed: ${JSON.stringify(state)}`, { cause: err });
  }
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const style = performance.getEntriesByType('resource').find((e) => e.name.includes('style.css')) as
      PerformanceResourceTiming | undefined;
    return {
      ...(window as unknown as { kilnBench: Timing }).kilnBench,
      firstByte: nav.responseStart,
      lastByte: nav.responseEnd,
      style: style?.responseEnd ?? 0,
    };
  });
  await context.close();
  return t;
}

/** Jumps through the whole log in `steps` scrolls; the time from each jump to the next frame. */
async function scrollThrough(b: Browser, url: string, steps: number): Promise<number[]> {
  const context = await newContext(b);
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector(`#L${LINES}`, { state: 'attached' });
  const frames = await page.evaluate(async (n: number) => {
    const pane = document.getElementById('log')!;
    const next = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));
    const out: number[] = [];
    await next();
    for (let i = 0; i <= n; i++) {
      const start = performance.now();
      pane.scrollTop = ((n - i) / n) * (pane.scrollHeight - pane.clientHeight);
      await next();
      await next();
      out.push(performance.now() - start);
    }
    return out;
  }, steps);
  await context.close();
  return frames;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${Math.round(x)} ms`;
const range = (xs: number[]) => `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`;

const results: Record<'kiln' | 'static' | 'pre', Timing[]> = { kiln: [], static: [], pre: [] };
await measure(browser, pageUrl, `L${LINES}`); // warm: the first launch of a renderer costs more
for (let run = 0; run < RUNS; run++) {
  results.kiln.push(await measure(browser, pageUrl, `L${LINES}`));
  results.static.push(await measure(browser, `${staticBase}/builds/${id}`, `L${LINES}`));
  results.pre.push(await measure(browser, `${staticBase}/pre`, `L${LINES}`));
}
console.log(`\n${RUNS} runs each, median (min–max), ${VIEWPORT.width}×${VIEWPORT.height}:`);
console.log(
  'page            first contentful paint   last line visible         first byte  style  last byte  long tasks (longest)',
);
for (const [name, runs] of Object.entries(results)) {
  console.log(
    `${name.padEnd(15)} ${range(runs.map((r) => r.fcp)).padEnd(24)} ${range(runs.map((r) => r.last)).padEnd(24)} ` +
      `${ms(median(runs.map((r) => r.firstByte))).padEnd(11)} ${ms(median(runs.map((r) => r.style))).padEnd(6)} ` +
      `${ms(median(runs.map((r) => r.lastByte))).padEnd(10)} ${ms(median(runs.map((r) => r.longTasks)))} ` +
      `(${ms(median(runs.map((r) => r.longest)))})`,
  );
}
const fcp = median(results.kiln.map((r) => r.fcp));
const last = median(results.kiln.map((r) => r.last));
const ratio = (x: number, base: Timing[], key: 'fcp' | 'last') =>
  `${(x / median(base.map((r) => r[key]))).toFixed(2)}×`;
console.log(
  `\nkiln: first contentful paint ${ms(fcp)} (goal < 1000 ms: ${fcp < 1000 ? 'met' : 'MISSED'}), ` +
    `${ratio(fcp, results.static, 'fcp')} static, ${ratio(fcp, results.pre, 'fcp')} pre`,
);
console.log(
  `kiln: last line visible ${ms(last)} (goal < 2000 ms: ${last < 2000 ? 'met' : 'MISSED'}), ` +
    `${ratio(last, results.static, 'last')} static, ${ratio(last, results.pre, 'last')} pre; ` +
    `in the window without scrolling it: ${results.kiln.every((r) => r.inWindow) ? 'yes' : 'no'}`,
);

const kilnFrames = await scrollThrough(browser, pageUrl, 40);
const preFrames = await scrollThrough(browser, `${staticBase}/pre`, 40);
console.log(
  `scrolling the whole log in 40 jumps, jump to painted: kiln median ${ms(median(kilnFrames))}, max ${ms(Math.max(...kilnFrames))}; ` +
    `pre median ${ms(median(preFrames))}, max ${ms(Math.max(...preFrames))}`,
);

// Live: a running build's page open while its 50,000 lines are stored.
const liveId = await seedBuild(db.pool, { name: 'livelog', version: '1.0', status: 'running' });
await db.pool.query('UPDATE builds SET finished_at = NULL, duration_ms = NULL WHERE id = $1', [liveId]);
const context = await newContext(browser);
const page = await context.newPage();
await page.goto(`${server.url}/builds/${liveId}`);
await page.waitForFunction(() => (window as unknown as { kilnLog?: unknown }).kilnLog !== undefined);
await page.evaluate(() => {
  const gaps: number[] = [];
  (window as unknown as { kilnGaps: number[] }).kilnGaps = gaps;
  let before = performance.now();
  const tick = (now: number) => {
    gaps.push(now - before);
    before = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
});
const started = Date.now();
await storeLog(liveId, lines, true);
const stored = Date.now();
await page.waitForFunction(
  (n: number) => {
    const line = document.getElementById(`L${n}`);
    const pane = document.getElementById('log')!;
    if (!line) return false;
    const r = line.getBoundingClientRect();
    const p = pane.getBoundingClientRect();
    return r.top >= p.top - 1 && r.bottom <= p.bottom + 1;
  },
  LINES,
  { timeout: 120_000, polling: 'raf' },
);
const shown = Date.now();
const gaps = await page.evaluate(() => (window as unknown as { kilnGaps: number[] }).kilnGaps.slice(1));
await context.close();
const sorted = [...gaps].sort((a, b) => a - b);
console.log(
  `live: 50,000 lines stored over ${ms(stored - started)}; the last one in view ${ms(shown - stored)} after it was stored; ` +
    `frames while streaming: p50 ${ms(sorted[Math.floor(sorted.length * 0.5)]!)}, p95 ${ms(sorted[Math.floor(sorted.length * 0.95)]!)}, ` +
    `max ${ms(sorted[sorted.length - 1]!)}`,
);
console.log(`machine load at the end: ${load()}`);
await new Promise<void>((resolve) => statics.close(() => resolve()));
