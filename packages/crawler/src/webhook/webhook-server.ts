import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfrastructureError, toError, type Logger } from '@kiln/shared';
import type { WatchedRepo, WatchList } from '../sources/watch-list.js';
import { DeliveryCache } from './delivery-cache.js';
import { parsePayload, payloadRepoUrls } from './payload-urls.js';
import { deliveryInfo, detectProvider, secretEquals, verifyWebhook, type Provider } from './signature.js';

export interface WebhookServerOptions {
  watchList: WatchList;
  /** Someone pushed to a watched repository: look at it now. */
  onPush: (repo: WatchedRepo, trigger: 'webhook' | 'hook') => void;
  /** KILN_WEBHOOK_SECRET. Without it, webhooks are refused and the hook endpoint answers loopback only. */
  secret?: string;
  logger: Logger;
  /** Largest body accepted (default 1 MiB; GitHub caps payloads at 25 MB, pushes are far smaller). */
  bodyLimit?: number;
  /** A readiness check for /healthz. */
  health?: () => Promise<Record<string, unknown>>;
}

const PUSH_EVENTS: Record<Provider, ReadonlySet<string>> = {
  github: new Set(['push', 'create', 'delete']),
  gitea: new Set(['push', 'create', 'delete']),
  gitlab: new Set(['Push Hook', 'System Hook']),
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Instant triggers. `POST /webhooks` (or `/webhooks/github|gitea|gitlab`)
 * takes push webhooks, checked in constant time against the secret;
 * `POST /hooks/post-receive` takes the path of a bare repository from the
 * hook script Kiln ships, with the secret as a bearer token (or, when no
 * secret is configured, from this host only); `GET /healthz` says whether the
 * crawler is alive. A trigger only makes the crawler look at a repository it
 * already watches: nothing in a request is passed to git.
 */
export class WebhookServer {
  private readonly server: Server;
  private readonly deliveries = new DeliveryCache();

  constructor(private readonly options: WebhookServerOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) options.logger.error({ err: toError(err).message, url: req.url }, 'webhook handler failed');
        this.reply(res, status, { error: toError(err).message });
      });
    });
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 5_000;
  }

  /** Resolves to the port it listens on (useful with port 0). */
  async listen(port: number, host?: string): Promise<number> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw new InfrastructureError(
        `cannot serve webhooks on port ${port}: ${toError(err).message} (set KILN_WEBHOOK_PORT)`,
        { cause: err },
      );
    }
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kiln');
    const route = url.pathname.replace(/\/+$/, '') || '/';
    if (route === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
      const details = (await this.options.health?.()) ?? {};
      return this.reply(res, 200, { status: 'ok', ...details });
    }
    const provider = /^\/webhooks(?:\/(github|gitea|gitlab))?$/.exec(route);
    if (provider) {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      return this.webhook(req, res, (provider[1] as Provider | undefined) ?? null);
    }
    if (route === '/hooks/post-receive') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      return this.postReceive(req, res);
    }
    throw new HttpError(404, 'not found');
  }

  private async webhook(req: IncomingMessage, res: ServerResponse, fromPath: Provider | null): Promise<void> {
    const { logger, secret, watchList } = this.options;
    const body = await readBody(req, this.options.bodyLimit ?? 1024 * 1024);
    const provider = fromPath ?? detectProvider(req.headers);
    if (!provider) throw new HttpError(400, 'unknown sender: expected a GitHub, Gitea or GitLab event header');
    if (!secret)
      throw new HttpError(403, 'webhooks are disabled: set KILN_WEBHOOK_SECRET on the crawler and in the webhook');
    const delivery = deliveryInfo(provider, req.headers);
    if (!verifyWebhook(provider, req.headers, body, secret)) {
      logger.warn(
        { provider, delivery: delivery.id, from: req.socket.remoteAddress },
        'refused webhook: bad or missing signature',
      );
      throw new HttpError(401, 'bad or missing signature');
    }
    if (delivery.id && this.deliveries.seenBefore(`${provider}:${delivery.id}`)) {
      logger.info({ provider, delivery: delivery.id }, 'webhook redelivery ignored');
      return this.reply(res, 200, { status: 'duplicate', delivery: delivery.id });
    }
    if (provider === 'github' && delivery.event === 'ping') return this.reply(res, 200, { status: 'pong' });
    if (!delivery.event || !PUSH_EVENTS[provider].has(delivery.event)) {
      return this.reply(res, 200, { status: 'ignored', reason: `not a push event (${String(delivery.event)})` });
    }
    let payload: unknown;
    try {
      payload = parsePayload(body, req.headers['content-type']);
    } catch (err) {
      throw new HttpError(400, `payload is not JSON: ${toError(err).message}`);
    }
    const repo = await watchList.findByUrls(payloadRepoUrls(payload));
    if (!repo) {
      logger.info({ provider, delivery: delivery.id }, 'webhook for a repository that is not watched');
      throw new HttpError(404, 'not a watched repository');
    }
    logger.info({ provider, delivery: delivery.id, repo: repo.label }, 'webhook: checking repository now');
    this.options.onPush(repo, 'webhook');
    return this.reply(res, 202, { status: 'accepted', repo: repo.label });
  }

  private async postReceive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { logger, secret, watchList } = this.options;
    if (secret) {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !secretEquals(auth.slice(7), secret)) {
        logger.warn({ from: req.socket.remoteAddress }, 'refused post-receive notification: bad or missing token');
        throw new HttpError(401, 'bad or missing token (the hook sends KILN_WEBHOOK_SECRET as a bearer token)');
      }
    } else if (!isLoopback(req.socket.remoteAddress)) {
      throw new HttpError(403, 'without KILN_WEBHOOK_SECRET, hook notifications are accepted from this host only');
    }
    const body = (await readBody(req, 4096)).toString('utf8');
    const dir = body.split('\n')[0]?.trim() ?? '';
    // eslint-disable-next-line no-control-regex
    if (!dir.startsWith('/') || /[\u0000-\u001f\u007f]/.test(dir))
      throw new HttpError(400, 'expected the absolute path of a repository');
    const repo = await watchList.findByPath(dir);
    if (!repo) {
      logger.info({ path: JSON.stringify(dir) }, 'post-receive notification for a repository that is not watched');
      throw new HttpError(404, 'not a watched repository');
    }
    logger.info({ repo: repo.label }, 'post-receive: checking repository now');
    this.options.onPush(repo, 'hook');
    return this.reply(res, 202, { status: 'accepted', repo: repo.label });
  }

  private reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(`${JSON.stringify(body)}\n`);
  }
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `body larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
