import { LogKeeper } from './log-keeper.js';

const chunk = (text: string, stream: 'stdout' | 'stderr' = 'stdout', stage = 'build') => ({
  stage,
  stream,
  text,
  at: 0,
});

describe('LogKeeper', () => {
  test('keeps everything under the cap, merging neighbours of one stage and stream', () => {
    const log = new LogKeeper(1000);
    log.add(chunk('a'));
    log.add(chunk('b'));
    log.add(chunk('c', 'stderr'));
    log.add(chunk('d', 'stderr', 'test'));
    expect(log.chunks().map((c) => [c.stage, c.stream, c.text])).toEqual([
      ['build', 'stdout', 'ab'],
      ['build', 'stderr', 'c'],
      ['test', 'stderr', 'd'],
    ]);
    expect(log.truncatedBytes).toBe(0);
  });

  test('over the cap, drops the oldest output and keeps the tail', () => {
    const log = new LogKeeper(10);
    log.add(chunk('0123456789', 'stdout', 'a'));
    log.add(chunk('abcdef', 'stderr', 'b'));
    expect(
      log
        .chunks()
        .map((c) => c.text)
        .join(''),
    ).toBe('6789abcdef');
    expect(log.truncatedBytes).toBe(6);
  });

  test('never cuts inside a UTF-8 character', () => {
    const log = new LogKeeper(5);
    log.add(chunk('éééé'));
    const text = log
      .chunks()
      .map((c) => c.text)
      .join('');
    expect(text).toBe('éé');
    expect(Buffer.byteLength(text) + log.truncatedBytes).toBe(8);
  });
});
