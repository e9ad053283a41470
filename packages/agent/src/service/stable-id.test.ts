import { uuidFromName } from './stable-id.js';

describe('uuidFromName', () => {
  it('is a version 5 UUID, the same for the same name', () => {
    const id = uuidFromName('build_queue\nmsg-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidFromName('build_queue\nmsg-1')).toBe(id);
    expect(uuidFromName('build_queue\nmsg-2')).not.toBe(id);
  });

  it('matches the RFC 4122 test vector for the DNS namespace', () => {
    expect(uuidFromName('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});
