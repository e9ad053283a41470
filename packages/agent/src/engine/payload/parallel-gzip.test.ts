import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { createParallelGzip } from './parallel-gzip.js';

async function gzipAll(input: Buffer, options: Parameters<typeof createParallelGzip>[0]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const chunks = Array.from({ length: Math.ceil(input.length / 10_000) }, (_, i) =>
    input.subarray(i * 10_000, (i + 1) * 10_000),
  );
  for await (const part of Readable.from(chunks).pipe(createParallelGzip(options))) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** gzip members in `data`, at least: each starts with the magic 1f 8b 08 (compressed bytes may hold it too). */
function countMembers(data: Buffer): number {
  let count = 0;
  for (let i = 0; i + 2 < data.length; i++)
    if (data[i] === 0x1f && data[i + 1] === 0x8b && data[i + 2] === 0x08) count++;
  return count;
}

describe('createParallelGzip', () => {
  test('blocks compressed apart read back as one gzip stream, in order', async () => {
    const text = Buffer.from('a line of a text file that compresses\n'.repeat(20_000));
    const input = Buffer.concat([text, randomBytes(300_000), text]);
    const packed = await gzipAll(input, { level: 1, blockBytes: 64 * 1024, parallel: 3 });
    expect(gunzipSync(packed)).toEqual(input);
    // A block is cut at the first chunk boundary past 64 KiB: about 1.8 MB in blocks of 70,000 bytes.
    expect(countMembers(packed)).toBeGreaterThanOrEqual(Math.floor(input.length / 70_000));
    expect(packed.length).toBeLessThan(input.length);
  });

  test('no input is an empty gzip stream', async () => {
    const packed = await gzipAll(Buffer.alloc(0), { level: 6 });
    expect(gunzipSync(packed)).toEqual(Buffer.alloc(0));
  });
});
