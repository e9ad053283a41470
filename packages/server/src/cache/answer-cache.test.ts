import { AnswerCache } from './answer-cache.js';

const body = (text: string) => ({ gzip: Buffer.from(text), etag: 'W/"e"' });

describe('AnswerCache', () => {
  test('keeps an answer while listening, and serves it until something changes', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    cache.setListening(true);
    cache.keep('/a', cache.ticket(), body('{"a":1}'));
    expect(cache.get('/a')?.gzip.toString()).toBe('{"a":1}');
    cache.clear();
    expect(cache.get('/a')).toBeUndefined();
  });

  test('refuses an answer read while a change came in (its ticket is old)', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    cache.setListening(true);
    const ticket = cache.ticket();
    cache.clear(); // a change notification between the read's start and its end
    cache.keep('/a', ticket, body('old'));
    expect(cache.get('/a')).toBeUndefined();
  });

  test('keeps and serves nothing while it cannot hear of changes, and forgets what it had', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    expect(cache.ticket()).toBeNull();
    cache.setListening(true);
    cache.keep('/a', cache.ticket(), body('x'));
    cache.setListening(false);
    expect(cache.get('/a')).toBeUndefined();
    cache.keep('/b', 0, body('y'));
    cache.setListening(true);
    expect(cache.get('/a')).toBeUndefined();
    expect(cache.get('/b')).toBeUndefined();
  });

  test('stays within its size, dropping the least recently used', () => {
    const cache = new AnswerCache({ maxBytes: 100, ttlMs: 60_000 });
    cache.setListening(true);
    for (let i = 0; i < 10; i++) cache.keep(`/k${i}`, cache.ticket(), body('x'.repeat(30)));
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(cache.get('/k9')).toBeDefined();
    expect(cache.get('/k0')).toBeUndefined();
  });
});
