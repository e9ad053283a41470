import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ARTIFACT_FORMATS, DEFAULT_ARTIFACT_FORMAT } from './artifact-format.js';
import { DEFAULT_EMULATION_SLOWDOWN } from './arch/emulation.js';
import { ConfigError } from './errors.js';
import { parseDuration } from './duration.js';
import { repoIdentity } from './repo-url.js';
import { isDebianArch } from './arch/debian-arch.js';

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL`,
  );

/** One URL, or several separated by commas (KILN_AMQP_URL: the nodes of a cluster); each is checked. */
const urlList = (protocols: string[]) =>
  z.string().superRefine((value, ctx) => {
    const items = value.split(',').map((item) => item.trim());
    if (items.every((item) => item === '')) {
      ctx.addIssue({ code: 'custom', message: 'must name at least one URL' });
      return;
    }
    items.forEach((item, i) => {
      if (!URL.canParse(item) || !protocols.includes(new URL(item).protocol)) {
        const which = items.length > 1 ? `URL ${i + 1} of ${items.length} ` : '';
        const names = protocols.map((p) => p.slice(0, -1)).join(' or ');
        ctx.addIssue({ code: 'custom', message: `${which}must be a ${names} URL` });
      }
    });
  });

const int = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ message }).int({ message }).min(min, { message }).max(max, { message });
};
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const duration = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 90s, 20m or 1h' });
    return z.NEVER;
  }
  return ms;
});
const bytes = z.string().transform((value, ctx) => {
  const match = /^(\d+)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  if (!match) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as 512m or 2g' });
    return z.NEVER;
  }
  const unit = (match[2] ?? 'b').toLowerCase()[0] ?? 'b';
  const factor = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1;
  return Number(match[1]) * factor;
});
const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const cidrList = list.superRefine((items, ctx) => {
  for (const item of items) {
    const m = CIDR.exec(item);
    if (!m || m.slice(1, 5).some((n) => Number(n) > 255) || Number(m[5]) > 32) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an IPv4 range such as 10.0.0.0/8` });
    }
  }
});
const ownerList = list.transform((items, ctx) => {
  const owners = new Map<string, string[]>();
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0 || at === item.length - 1) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not name=repository` });
      return z.NEVER;
    }
    const name = item.slice(0, at);
    owners.set(name, [...(owners.get(name) ?? []), repoIdentity(item.slice(at + 1))]);
  }
  return owners as ReadonlyMap<string, readonly string[]>;
});

const dataHome = process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share');
const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');

/**
 * Every KILN_* variable, with its default. Defaults point at services on this
 * host, so a developer machine needs no configuration at all.
 */
export const ConfigSchema = z.object({
  // One broker, or a cluster's nodes comma-separated: clients fail over between them.
  KILN_AMQP_URL: urlList(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672'),
  KILN_DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/kiln'),
  KILN_SMTP_URL: url(['smtp:', 'smtps:']).default('smtp://127.0.0.1:1025'),
  KILN_MAIL_FROM: z.string().min(3).default('Kiln <kiln@localhost>'),
  // Repositories (as cloned, or * for all) whose successful builds are emailed too.
  KILN_NOTIFY_SUCCESS_REPOS: list.default([]),
  KILN_REPOS: list.default([]),
  KILN_REPO_ROOT: z.string().optional(),
  KILN_POLL_INTERVAL: int(1, 86_400).default(60),
  KILN_POLL_CONCURRENCY: int(1, 256).default(16),
  /** How long one `git ls-remote` may take before it is killed. */
  KILN_GIT_TIMEOUT: duration.default(30_000),
  KILN_WEBHOOK_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  KILN_WEBHOOK_PORT: int(0, 65_535).default(8080),
  KILN_CONCURRENCY: int(1, 256).default(Math.max(1, os.availableParallelism())),
  KILN_METRICS_PORT: int(0, 65_535).default(9464),
  KILN_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('build_queue'),
  KILN_EVENTS_EXCHANGE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('kiln.events'),
  KILN_DELIVERY_LIMIT: int(1, 100).default(5),
  /** The arches an agent builds for, by hand; unset: its own plus those with an enabled qemu binfmt handler. */
  KILN_ARCHS: list
    .superRefine((items, ctx) => {
      for (const item of items) {
        if (!isDebianArch(item))
          ctx.addIssue({
            code: 'custom',
            message: `"${item}" is not a Debian architecture name such as amd64 or arm64`,
          });
      }
    })
    .default([]),
  KILN_AGENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]+$/)
    .default(`${os.hostname()}-${process.pid}`),
  KILN_WORK_DIR: z.string().default(path.join(os.tmpdir(), 'kiln-work')),
  KILN_CACHE_DIR: z.string().default(path.join(cacheHome, 'kiln')),
  KILN_ARTIFACT_DIR: z.string().default(path.join(dataHome, 'kiln', 'artifacts')),
  KILN_ARTIFACT_FORMAT: z.enum(ARTIFACT_FORMATS).default(DEFAULT_ARTIFACT_FORMAT),
  KILN_ALLOW_INHERIT_ENV: bool.default(false),
  KILN_ALLOW_PRIVILEGED: bool.default(false),
  KILN_MEMORY_LIMIT: bytes.default(2 * 1024 ** 3),
  KILN_CPU_LIMIT: z.coerce.number().positive().max(1024).default(Math.max(1, os.availableParallelism())),
  KILN_PIDS_LIMIT: int(16, 1_000_000).default(1024),
  KILN_STAGE_TIMEOUT: duration.default(3_600_000),
  KILN_IDLE_TIMEOUT: duration.default(900_000),
  /** How much longer a stage may take under emulation (an arch other than the host's): stage and idle timeouts are multiplied by it. */
  KILN_EMULATION_SLOWDOWN: z.coerce.number().min(1).max(1000).default(DEFAULT_EMULATION_SLOWDOWN),
  KILN_SHUTDOWN_GRACE: duration.default(60_000),
  KILN_LEASE: duration.default(45_000), // a running build not heard of this long is retaken by another agent
  KILN_LOG_LIMIT: bytes.default(5 * 1024 ** 2),
  /**
   * The network of the phases that get one (prepare; stages that ask and are allowed): `isolated` is Kiln's own
   * Docker network, firewalled off the host and private ranges; `bridge` is Docker's default, unfiltered.
   */
  KILN_NETWORK: z.enum(['isolated', 'bridge', 'none', 'host']).default('isolated'),
  /**
   * Who installs the isolated network's firewall: the agent at start (it must be root on the host's network),
   * or `external`: `kiln network setup` run on the host (docker compose does so), the agent only checks.
   */
  KILN_BUILD_FIREWALL: z.enum(['agent', 'external']).default('agent'),
  /** Stages after prepare run without a network unless this allows a manifest's `network: true`. */
  KILN_ALLOW_STAGE_NETWORK: bool.default(false),
  /** Address ranges an isolated build may reach although they are private (a package mirror). */
  KILN_BUILD_NETWORK_ALLOW: cidrList.default([]),
  /** Further ranges it may not reach: the farm's services on other hosts. */
  KILN_BUILD_NETWORK_DENY: cidrList.default([]),
  /** A payload larger than this fails the build before it is read. */
  KILN_PAYLOAD_LIMIT: bytes.default(4 * 1024 ** 3),
  /** What a content-policy flag (setuid file, /etc/passwd replaced, device, ...) does: warn, or fail the build. */
  KILN_CONTENT_POLICY: z.enum(['warn', 'fail']).default('warn'),
  /** The fraction of succeeded builds (0 to 1) checked for reproducibility, besides manifests that ask (`verify`). */
  KILN_VERIFY_REPRODUCIBLE: z.coerce
    .number({ message: 'must be a fraction from 0 to 1 (0.1: one build in ten)' })
    .min(0, { message: 'must be a fraction from 0 to 1 (0.1: one build in ten)' })
    .max(1, { message: 'must be a fraction from 0 to 1 (0.1: one build in ten)' })
    .default(0),
  /** The image diffoscope runs in, for a readable difference of unreproducible files. */
  KILN_DIFFOSCOPE_IMAGE: z.string().min(1).default('kiln/diffoscope:latest'),
  /**
   * Rebuild the packages that need a library when a build changes what it provides (a SONAME added or removed):
   * `true` for every repository, or the repositories (as cloned) whose builds may trigger rebuilds.
   */
  KILN_REBUILD_DEPENDENTS: z
    .string()
    .transform((v) =>
      ['true', '1', 'yes', '*'].includes(v)
        ? ['*']
        : ['false', '0', 'no'].includes(v)
          ? []
          : v
              .split(',')
              .map((r) => r.trim())
              .filter(Boolean),
    )
    .default([]),
  /** Also when a file behind a provided SONAME changed (same SONAME, new bytes). */
  KILN_REBUILD_ON_LIBRARY_CHANGE: bool.default(false),
  /** At most this many dependency rebuilds are queued per hour, farm-wide: storms end. */
  KILN_REBUILD_PER_HOUR: int(0, 100_000).default(50),
  /** Owners pinned by the operator: `name=repo` pairs, comma-separated (a name may repeat); overrides the database. */
  KILN_PACKAGE_OWNERS: ownerList.default(new Map()),
  // kiln server
  KILN_HTTP_PORT: int(0, 65_535).default(8090),
  KILN_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** `write`: tokens for writes only (reads are public); `read`: every API and repository read needs one too. */
  KILN_HTTP_AUTH: z.enum(['write', 'read'], { message: 'must be write or read' }).default('write'),
  /** Megabytes of public read answers kept until the database changes; 0: no answer cache. */
  KILN_HTTP_CACHE_MB: int(0, 4096).default(24),
  /** Origins allowed to call the API from a browser; none: CORS off. */
  KILN_HTTP_CORS_ORIGINS: list.default([]),
  /** Where people reach kiln server (links in emails); none: emails carry no link. */
  KILN_PUBLIC_URL: url(['http:', 'https:']).optional(),
  /** The farm's OpenPGP private key (armored), which signs the package repository's index. */
  KILN_SIGNING_KEY: z.string().min(1).optional(),
  // kiln fetch
  KILN_SERVER_URL: url(['http:', 'https:']).default('http://127.0.0.1:8090'),
  /** The farm's public key that `kiln fetch` trusts (armored); none: the server's /repo/key.asc, with a warning. */
  KILN_REPO_KEY: z.string().min(1).optional(),
  KILN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof ConfigSchema>;

/**
 * Reads the configuration from `env` once, at start-up. An empty variable
 * counts as unset. The error names every variable at fault.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = ConfigSchema.safeParse(relevant);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const shown = env[name] === undefined ? '' : ` (got "${redactSecret(name, env[name] ?? '')}")`;
    return `${name}${shown}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

function redactSecret(name: string, value: string): string {
  if (name.includes('SECRET')) return '***';
  return value.replace(/\/\/([^/@\s,]*)@/g, '//***@');
}
