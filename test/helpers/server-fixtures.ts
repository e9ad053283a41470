import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { createLogger, debianHostArch, loadConfig, type Logger, type Queryable } from '@kiln/shared';
import { startServer, type RunningServer } from '@kiln/server';
import { waitFor } from './wait.js';

export interface TestServerOptions {
  db: { url: string };
  amqpUrl: string;
  env?: Record<string, string>;
  logger?: Logger;
  /** Fixed port (to restart a server where clients reconnect); default: any free one. */
  port?: number;
  followPollMs?: number;
}

/** A real `kiln server` in this process, built from configuration as the CLI builds it. */
export async function startTestServer(
  options: TestServerOptions,
): Promise<RunningServer & { dirs: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dirs = await mkdtemp(path.join(os.tmpdir(), 'kiln-server-'));
  const config = loadConfig({
    KILN_DATABASE_URL: options.db.url,
    KILN_AMQP_URL: options.amqpUrl,
    KILN_HTTP_PORT: String(options.port ?? 0),
    KILN_HTTP_HOST: '127.0.0.1',
    KILN_ARTIFACT_DIR: path.join(dirs, 'artifacts'),
    ...options.env,
  });
  const logger = options.logger ?? createLogger({ level: process.env.KILN_TEST_LOG ?? 'silent', pretty: false });
  const server = await startServer(config, { logger, followPollMs: options.followPollMs ?? 500, checkResponses: true });
  return {
    ...server,
    dirs,
    async [Symbol.asyncDispose]() {
      await server.close();
      await rm(dirs, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

export interface SseClient {
  events: EventSourceMessage[];
  /** The connection ended (by the server, or by `close`). */
  ended: Promise<void>;
  status: number;
  waitFor(test: (events: EventSourceMessage[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** An event-stream client on fetch, parsing with eventsource-parser; no automatic reconnection (tests do that). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const body = response.body;
  const ended = (async () => {
    if (!body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch {
      // aborted, or the server went away
    }
  })();
  return {
    events,
    ended,
    status: response.status,
    waitFor: async (test, what, timeoutMs = 60_000) => {
      await waitFor(() => test(events), what, timeoutMs, 50);
    },
    close: () => abort.abort(),
  };
}

/** The log lines of an event list, as `{attempt, seq, text}`. */
export function logLines(
  events: EventSourceMessage[],
): Array<{ id: string; attempt: number; seq: number; text: string }> {
  return events
    .filter((e) => e.event === 'log')
    .map((e) => {
      const data = JSON.parse(e.data) as { attempt: number; seq: number; text: string };
      return { id: e.id ?? '', attempt: data.attempt, seq: data.seq, text: data.text };
    });
}

/** Inserts a finished build (and, with `files`, its package) straight into the database. */
export async function seedBuild(
  db: Queryable,
  fields: {
    name: string;
    version: string;
    status?: string;
    queuedAt?: Date;
    /** Default: the host's. */
    arch?: string;
    files?: Array<{ path: string; kind?: string; sha256?: string; soname?: string; needed?: string[] }>;
    artifact?: string;
  },
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO builds (id, repo, branch, commit, package_name, package_version, trigger, status, attempt, agent,
                         queued_at, started_at, finished_at, duration_ms, arch)
     VALUES ($1, '/srv/git/' || $2 || '.git', $2 || '-' || $3, repeat('a', 40), $2, $3, 'poll', $4, 1, 'agent-1',
             $5, $5, $5, 1000, $6)`,
    [
      id,
      fields.name,
      fields.version,
      fields.status ?? 'succeeded',
      fields.queuedAt ?? new Date(),
      fields.arch ?? debianHostArch(),
    ],
  );
  if (fields.files) {
    for (const f of fields.files) {
      await db.query(
        `INSERT INTO package_files (build_id, path, size, mode, sha256, kind, linkage, needed, soname)
         VALUES ($1, $2, 100, '0755', $3, $4, $5, $6, $7)`,
        [
          id,
          f.path,
          f.sha256 ?? null,
          f.kind ?? 'other',
          f.kind === 'executable' || f.kind === 'shared-library' ? 'dynamic' : null,
          f.needed ?? null,
          f.soname ?? null,
        ],
      );
    }
    await db.query(
      `INSERT INTO packages (name, version, build_id, installed_size, file_count, payload_sha256, artifact, arch)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (name, version, arch) DO UPDATE SET build_id = EXCLUDED.build_id`,
      [
        fields.name,
        fields.version,
        id,
        100 * fields.files.length,
        fields.files.length,
        'b'.repeat(64),
        fields.artifact ?? null,
        fields.arch ?? debianHostArch(),
      ],
    );
  }
  return id;
}
