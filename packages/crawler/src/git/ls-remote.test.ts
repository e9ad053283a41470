import { parseHeads } from './ls-remote.js';

describe('parseHeads', () => {
  test('reads branch heads and nothing else', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(64);
    const out = `${a}\trefs/heads/zlib-1.3.1\n${b}\trefs/heads/main\n${a}\trefs/tags/v1\nnot a line\n${'z'.repeat(40)}\trefs/heads/bad-sha\n${a}\tHEAD\n`;
    expect(parseHeads(out)).toEqual(
      new Map([
        ['zlib-1.3.1', a],
        ['main', b],
      ]),
    );
  });

  test('empty output is an empty repository', () => {
    expect(parseHeads('')).toEqual(new Map());
  });
});
