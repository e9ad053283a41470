import { AnswerCache } from './answer-cache.js';

const body = (text: string) => ({ gzip: Buffer.from(text), etag: 'W/"e"' });
const T = { tables: ['builds'] };

describe('AnswerCache', () => {
  test('keeps an answer while listening, and serves it until something changes', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    cache.setListening(true);
    cache.keep('/a', cache.ticket(), body('{"a":1}'), T);
    expect(cache.get('/a')?.gzip.toString()).toBe('{"a":1}');
    cache.clear();
    expect(cache.get('/a')).toBeUndefined();
  });

  test('refuses an answer read while a change came in (its ticket is old)', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    cache.setListening(true);
    const ticket = cache.ticket();
    cache.clear(); // a change notification between the read's start and its end
    cache.keep('/a', ticket, body('old'), T);
    expect(cache.get('/a')).toBeUndefined();
  });

  test('keeps and serves nothing while it cannot hear of changes, and forgets what it had', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    expect(cache.ticket()).toBeNull();
    cache.setListening(true);
    cache.keep('/a', cache.ticket(), body('x'), T);
    cache.setListening(false);
    expect(cache.get('/a')).toBeUndefined();
    cache.keep('/b', 0, body('y'), T);
    cache.setListening(true);
    expect(cache.get('/a')).toBeUndefined();
    expect(cache.get('/b')).toBeUndefined();
  });

  test('stays within its size, dropping the least recently used', () => {
    const cache = new AnswerCache({ maxBytes: 100, ttlMs: 60_000 });
    cache.setListening(true);
    for (let i = 0; i < 10; i++) cache.keep(`/k${i}`, cache.ticket(), body('x'.repeat(30)), T);
    expect(cache.size).toBeLessThanOrEqual(3);
    expect(cache.get('/k9')).toBeDefined();
    expect(cache.get('/k0')).toBeUndefined();
  });

  test('a change to a table takes the answers read from it, and leaves the others', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    cache.setListening(true);
    cache.keep('/builds/1', cache.ticket(), body('b'), { tables: ['builds', 'build_stages', 'packages'] });
    cache.keep('/packages/zlib', cache.ticket(), body('p'), { tables: ['packages', 'package_files'] });
    cache.keep('/search?path=x', cache.ticket(), body('s'), { tables: ['package_files'] });
    cache.changed(['build_stages']);
    expect(cache.get('/builds/1')).toBeUndefined();
    expect(cache.get('/packages/zlib')?.gzip.toString()).toBe('p');
    cache.changed(['packages']);
    expect(cache.get('/packages/zlib')).toBeUndefined();
    expect(cache.get('/search?path=x')?.gzip.toString()).toBe('s');
    expect(cache.stats.evicted).toBe(2);
  });

  test('a read that raced a change keeps its answer only when the change was to another table', () => {
    const cache = new AnswerCache({ maxBytes: 1024, ttlMs: 60_000 });
    cache.setListening(true);
    const ticket = cache.ticket();
    cache.changed(['builds']);
    cache.keep('/packages/zlib', ticket, body('p'), { tables: ['packages', 'package_files'] });
    cache.keep('/builds/1', ticket, body('b'), { tables: ['builds', 'packages'] });
    expect(cache.get('/packages/zlib')?.gzip.toString()).toBe('p');
    expect(cache.get('/builds/1')).toBeUndefined();
    // A ticket taken after the change is current for that table again.
    cache.keep('/builds/1', cache.ticket(), body('b2'), { tables: ['builds', 'packages'] });
    expect(cache.get('/builds/1')?.gzip.toString()).toBe('b2');
    // Clearing refuses every read in flight, whatever it read.
    const before = cache.ticket();
    cache.clear();
    cache.keep('/search?path=x', before, body('s'), { tables: ['package_files'] });
    expect(cache.get('/search?path=x')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('a change to some builds takes their answers and the lists, and leaves other builds kept', () => {
    const cache = new AnswerCache({ maxBytes: 4096, ttlMs: 60_000 });
    cache.setListening(true);
    const tables = ['builds', 'build_stages'];
    cache.keep('/builds/a', cache.ticket(), body('a'), { tables, build: 'a' });
    cache.keep('/builds/b', cache.ticket(), body('b'), { tables, build: 'b' });
    cache.keep('/builds', cache.ticket(), body('list'), { tables });
    cache.keep('/packages/zlib', cache.ticket(), body('p'), { tables: ['packages'] });
    cache.changed(['build_stages'], ['a', 'c']);
    expect(cache.get('/builds/a')).toBeUndefined();
    expect(cache.get('/builds')).toBeUndefined();
    expect(cache.get('/builds/b')?.gzip.toString()).toBe('b');
    expect(cache.get('/packages/zlib')?.gzip.toString()).toBe('p');
    // Without builds named, the change may be to any row: every answer read from the table goes.
    cache.changed(['builds'], null);
    expect(cache.get('/builds/b')).toBeUndefined();
    expect(cache.get('/packages/zlib')).toBeDefined();
  });
});
