import type { LogChunk } from '../engine/types.js';
import { mergeChunks } from './live-log.js';

const chunk = (stage: string, stream: LogChunk['stream'], text: string): LogChunk => ({ stage, stream, text, at: 0 });

describe('mergeChunks', () => {
  it('merges consecutive chunks of one stage and stream and numbers the rows', () => {
    const rows = mergeChunks(
      [
        chunk('build', 'stdout', 'a\n'),
        chunk('build', 'stdout', 'b\n'),
        chunk('build', 'stderr', 'c\n'),
        chunk('test', 'stderr', 'd\n'),
      ],
      7,
    );
    expect(rows).toEqual([
      { seq: 7, stage: 'build', stream: 'stdout', text: 'a\nb\n' },
      { seq: 8, stage: 'build', stream: 'stderr', text: 'c\n' },
      { seq: 9, stage: 'test', stream: 'stderr', text: 'd\n' },
    ]);
  });

  it('starts a new row past 16 KiB and drops NUL characters PostgreSQL cannot store', () => {
    const big = 'x'.repeat(10_000);
    const rows = mergeChunks(
      [chunk('b', 'stdout', big), chunk('b', 'stdout', big), chunk('b', 'stdout', 'a\u0000b')],
      0,
    );
    expect(rows.map((r) => r.text.length)).toEqual([10_000, 10_002]);
    expect(rows[1]?.text.endsWith('ab')).toBe(true);
  });
});
