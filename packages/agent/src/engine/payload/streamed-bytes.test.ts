import { StreamedBytes } from './streamed-bytes.js';

const bytes = (from: number, to: number) => Buffer.from(Array.from({ length: to - from }, (_, i) => (from + i) % 256));

describe('StreamedBytes', () => {
  test('kept bytes are read at once; a range ahead is collected as it passes, across chunks', async () => {
    const s = new StreamedBytes(100, 10);
    s.push(bytes(0, 8));
    expect(await s.read(2, 4)).toEqual(bytes(2, 6));
    const ahead = s.read(30, 40);
    s.push(bytes(8, 35));
    s.push(bytes(35, 100));
    expect(await ahead).toEqual(bytes(30, 70));
    expect(s.head(64)).toEqual(bytes(0, 10));
  });

  test('a range that passed beyond what was kept cannot be had', async () => {
    const s = new StreamedBytes(100, 10);
    s.push(bytes(0, 50));
    await expect(s.read(20, 5)).rejects.toThrow('bytes 20 to 25 passed before they were asked for');
  });

  test('a range begun in the kept bytes is finished from the stream', async () => {
    const s = new StreamedBytes(100, 40);
    s.push(bytes(0, 30));
    const read = s.read(25, 20);
    s.push(bytes(30, 100));
    expect(await read).toEqual(bytes(25, 45));
  });

  test('when the stream ends short, open reads get what there was; reads past the size get nothing', async () => {
    const s = new StreamedBytes(100, 10);
    const read = s.read(90, 20);
    s.push(bytes(0, 95));
    s.end();
    expect(await read).toEqual(bytes(90, 95));
    expect(await s.read(100, 4)).toEqual(Buffer.alloc(0));
  });

  test('keepOnly lets go of what is kept beyond the new limit', () => {
    const s = new StreamedBytes(100, 50);
    s.push(bytes(0, 30));
    s.keepOnly(4);
    s.push(bytes(30, 60));
    expect(s.head(64)).toEqual(bytes(0, 4));
  });
});
