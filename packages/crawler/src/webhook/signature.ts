import { createHmac, timingSafeEqual } from 'node:crypto';

export type Provider = 'github' | 'gitea' | 'gitlab';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function hmac(secret: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** Compares a hex signature with the expected digest in constant time; malformed input is simply unequal. */
function hexEquals(given: string | undefined, expected: Buffer): boolean {
  if (given === undefined || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

/**
 * Constant-time equality of two secrets of any length: both are hashed with a
 * per-call key first, so neither the content nor the length leaks.
 */
export function secretEquals(given: string, secret: string): boolean {
  const key = createHmac('sha256', 'kiln').update(String(process.hrtime.bigint())).digest();
  const a = createHmac('sha256', key).update(given).digest();
  const b = createHmac('sha256', key).update(secret).digest();
  return timingSafeEqual(a, b);
}

/**
 * Whether a webhook delivery really comes from a server that knows the secret:
 * GitHub and Gitea sign the body (HMAC-SHA256; Gitea also sends GitHub's
 * header), GitLab sends the secret itself as a token.
 */
export function verifyWebhook(provider: Provider, headers: Headers, body: Buffer, secret: string): boolean {
  switch (provider) {
    case 'github': {
      const value = header(headers, 'x-hub-signature-256');
      return value?.startsWith('sha256=') === true && hexEquals(value.slice(7), hmac(secret, body));
    }
    case 'gitea': {
      const expected = hmac(secret, body);
      const gitea = header(headers, 'x-gitea-signature');
      if (gitea !== undefined) return hexEquals(gitea, expected);
      const hub = header(headers, 'x-hub-signature-256');
      return hub?.startsWith('sha256=') === true && hexEquals(hub.slice(7), expected);
    }
    case 'gitlab': {
      const token = header(headers, 'x-gitlab-token');
      return token !== undefined && secretEquals(token, secret);
    }
  }
}

/** Which server sent a delivery, from its event header (Gitea also sends GitHub's headers, so it is asked first). */
export function detectProvider(headers: Headers): Provider | null {
  if (header(headers, 'x-gitea-event') !== undefined) return 'gitea';
  if (header(headers, 'x-gitlab-event') !== undefined) return 'gitlab';
  if (header(headers, 'x-github-event') !== undefined) return 'github';
  return null;
}

export interface DeliveryInfo {
  /** The server's id for this delivery: the same on a redelivery. */
  id: string | null;
  event: string | null;
}

export function deliveryInfo(provider: Provider, headers: Headers): DeliveryInfo {
  switch (provider) {
    case 'github':
      return { id: header(headers, 'x-github-delivery') ?? null, event: header(headers, 'x-github-event') ?? null };
    case 'gitea':
      return { id: header(headers, 'x-gitea-delivery') ?? null, event: header(headers, 'x-gitea-event') ?? null };
    case 'gitlab':
      return {
        id: header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid') ?? null,
        event: header(headers, 'x-gitlab-event') ?? null,
      };
  }
}
