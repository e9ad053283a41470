import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

const run = promisify(execFile);

/** What one load run measured: latencies in ms, CPU in ms of CPU time per request. */
export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  /** CPU time the load generator itself spent. */
  clientCpuMs: number;
}

export interface LoadOptions {
  base: string;
  /** Request paths to draw from at random, one per request. */
  paths: string[];
  connections: number;
  seconds: number;
  /** Request headers every request carries (e.g. Accept-Encoding). */
  headers?: Record<string, string>;
}

export type LoadClient = 'wrk' | 'autocannon';

/** Debian's `wrk` (C, a fraction of autocannon's CPU) when it is installed, else autocannon. */
export async function chooseClient(wanted: string | undefined): Promise<LoadClient> {
  if (wanted === 'autocannon') return 'autocannon';
  const found = await run('wrk', ['--version']).then(
    () => true,
    (err: { stdout?: string }) => /wrk/.test(err.stdout ?? ''),
  );
  if (found) return 'wrk';
  if (wanted === 'wrk') throw new Error('BENCH_CLIENT=wrk, but there is no wrk (apt-get install wrk)');
  return 'autocannon';
}

export function runLoad(client: LoadClient, options: LoadOptions): Promise<LoadResult> {
  return client === 'wrk' ? runWrk(options) : runAutocannon(options);
}

// wrk picks a path per request and reports its latency percentiles (microseconds) as one JSON line.
const WRK_SCRIPT = (paths: string[]) => `
local paths = { ${paths.map((p) => JSON.stringify(p)).join(',\n')} }
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"us":%d,"p50":%d,"p95":%d,"p99":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-bench-wrk-'));
  try {
    const script = path.join(dir, 'paths.lua');
    await writeFile(script, WRK_SCRIPT(options.paths));
    const before = childrenCpuMs(await readFile('/proc/self/stat', 'utf8'));
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        'wrk',
        [
          '-t1',
          `-c${options.connections}`,
          `-d${options.seconds}s`,
          '--timeout',
          '10s',
          ...Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
          '-s',
          script,
          options.base,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${out}`))));
    });
    // wrk has been waited for, so its CPU time is in this process's children's times.
    const clientCpuMs = childrenCpuMs(await readFile('/proc/self/stat', 'utf8')) - before;
    const line = output
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{'));
    if (!line) throw new Error(`no result from wrk: ${output}`);
    const r = JSON.parse(line) as {
      requests: number;
      us: number;
      p50: number;
      p95: number;
      p99: number;
      errors: number;
    };
    return {
      requests: r.requests,
      rps: r.requests / (r.us / 1e6),
      p50: r.p50 / 1000,
      p95: r.p95 / 1000,
      p99: r.p99 / 1000,
      errors: r.errors,
      clientCpuMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  let errors = 0;
  const before = process.cpuUsage();
  const pick = () => options.paths[Math.floor(Math.random() * options.paths.length)]!;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.base,
        connections: options.connections,
        duration: options.seconds,
        headers: options.headers ?? {},
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: pick() }) }],
      },
      (err, done) => (err ? reject(err) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode !== 200) errors++;
      times.push(responseTime);
    });
  });
  const used = process.cpuUsage(before);
  return {
    requests: times.length,
    rps: result.requests.average,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    errors,
    clientCpuMs: (used.user + used.system) / 1000,
  };
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux

function statFields(stat: string): string[] {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function childrenCpuMs(stat: string): number {
  const f = statFields(stat);
  return (Number(f[13]) + Number(f[14])) * TICK_MS; // cutime, cstime
}

/** CPU time (user + system) a process has used so far, in ms; 0 when it is gone. */
export async function processCpuMs(pid: number): Promise<number> {
  try {
    const f = statFields(await readFile(`/proc/${pid}/stat`, 'utf8'));
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime
  } catch {
    return 0;
  }
}

/** CPU time of the PostgreSQL backends serving `database` (their process titles name it), in ms. */
export async function backendsCpuMs(database: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('postgres: ') && cmdline.includes(` ${database} `))
      total += await processCpuMs(Number(entry));
  }
  return total;
}

/** The machine's load averages (1, 5, 15 minutes), as `uptime` shows them. */
export async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}
