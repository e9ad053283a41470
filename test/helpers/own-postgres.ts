import { execFile } from 'node:child_process';
import { appendFile, chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createPool, migrate } from '@kiln/shared';
import { freePort } from './smtp-sink.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (never the shared server), so a
 * test can restart "the database" under a running agent.
 */
export interface OwnPostgres {
  url: string;
  /** The URL for a test host: through `listen` (see startOwnPostgres). */
  remoteUrl: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface OwnPostgresOptions {
  /** Listen on this address too (a test network's service address), trusting `allow` (a CIDR). */
  listen?: { address: string; allow: string };
}

export async function startOwnPostgres(options: OwnPostgresOptions = {}): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-pg-'));
  await chmod(dir, 0o755);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asPostgres = process.getuid?.() === 0;
  const pg = async (binary: string, args: string[]): Promise<void> => {
    const bin = `/usr/lib/postgresql/15/bin/${binary}`;
    if (asPostgres) await run('runuser', ['-u', 'postgres', '--', bin, ...args], { cwd: dir });
    else await run(bin, args, { cwd: dir });
  };
  if (asPostgres) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  if (options.listen) {
    await appendFile(path.join(data, 'pg_hba.conf'), `host all all ${options.listen.allow} trust\n`);
  }
  const listen = ['127.0.0.1', ...(options.listen ? [options.listen.address] : [])].join(',');
  const serverOptions = `-c port=${port} -c listen_addresses=${listen} -c unix_socket_directories=${dir} -c fsync=off -c max_connections=300`;
  let up = false;
  const own: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    remoteUrl: `postgres://postgres@${options.listen?.address ?? '127.0.0.1'}:${port}/postgres`,
    async start() {
      await pg('pg_ctl', ['-D', data, '-o', serverOptions, '-l', path.join(dir, 'log'), '-w', 'start']);
      up = true;
    },
    async stop() {
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      up = false;
    },
    async restart() {
      await own.stop();
      await own.start();
    },
    async [Symbol.asyncDispose]() {
      if (up) await own.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await own.start();
  const pool = createPool(own.url, { max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return own;
}
