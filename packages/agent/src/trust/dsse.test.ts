import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openEnvelope, preAuthEncoding, signEnvelope } from './dsse.js';
import { generateSigningKey, loadSigner } from '@kiln/shared/signing-key';

describe('DSSE with the farm key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-dsse-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("the pre-authentication encoding is DSSE v1's", () => {
    expect(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  test('opens with its own key; not with another, nor with a changed payload or type', async () => {
    await generateSigningKey(path.join(dir, 'a.asc'), { name: 'a', email: 'a@example.org' });
    await generateSigningKey(path.join(dir, 'b.asc'), { name: 'b', email: 'b@example.org' });
    const [a, b] = [await loadSigner(path.join(dir, 'a.asc')), await loadSigner(path.join(dir, 'b.asc'))];
    const envelope = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{"x":1}'), a);
    const opened = await openEnvelope(envelope, a.publicKey, a.fingerprint);
    expect(opened.ok && opened.payload.toString()).toBe('{"x":1}');
    const other = await openEnvelope(envelope, b.publicKey, b.fingerprint);
    expect(other).toEqual({
      ok: false,
      reason: `it is signed by key ${a.fingerprint}, not by the trusted key ${b.fingerprint}`,
    });
    const changed = { ...envelope, payload: Buffer.from('{"x":2}').toString('base64') };
    expect((await openEnvelope(changed, a.publicKey, a.fingerprint)).ok).toBe(false);
    const retyped = { ...envelope, payloadType: 'text/plain' };
    expect((await openEnvelope(retyped, a.publicKey, a.fingerprint)).ok).toBe(false);
  });
});
