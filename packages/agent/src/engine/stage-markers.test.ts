import { formatMarkerLine, MarkerSplitter, type MarkedPiece } from './stage-markers.js';

const TOKEN = '::kiln-0123456789abcdef::';

function collect(chunks: string[]): MarkedPiece[] {
  const splitter = new MarkerSplitter(TOKEN);
  const pieces = [...chunks.flatMap((c) => splitter.push(c)), ...splitter.flush()];
  // Adjacent text pieces are merged: how text is cut is not the point.
  const merged: MarkedPiece[] = [];
  for (const piece of pieces) {
    const last = merged.at(-1);
    if ('text' in piece && last && 'text' in last) last.text += piece.text;
    else merged.push({ ...piece });
  }
  return merged;
}

describe('MarkerSplitter', () => {
  const stream = `hello\n${formatMarkerLine(TOKEN, { kind: 'start', index: 0 })}out\n${formatMarkerLine(TOKEN, { kind: 'end', index: 0, exitCode: 2, refused: 0 })}${formatMarkerLine(TOKEN, { kind: 'done' })}tail`;
  const expected: MarkedPiece[] = [
    { text: 'hello\n' },
    { marker: { kind: 'start', index: 0 } },
    { text: 'out\n' },
    { marker: { kind: 'end', index: 0, exitCode: 2, refused: 0 } },
    { marker: { kind: 'done' } },
    { text: 'tail' },
  ];

  test('takes markers out and keeps the text around them in order', () => {
    expect(collect([stream])).toEqual(expected);
  });

  test('finds markers split across chunks, at every split point', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(collect([stream.slice(0, cut), stream.slice(cut)])).toEqual(expected);
    }
  });

  test('a marker after output without a newline still counts', () => {
    expect(collect([`partial${TOKEN} s 3\n`])).toEqual([{ text: 'partial' }, { marker: { kind: 'start', index: 3 } }]);
  });

  test('text that only looks like a marker is shown as it is', () => {
    expect(collect([`${TOKEN} x 1\n`, `::kiln-other:: s 1\n`])).toEqual([
      { text: `${TOKEN} x 1\n::kiln-other:: s 1\n` },
    ]);
  });

  test('a token followed by a long line without newline is not held forever', () => {
    const long = `${TOKEN}${'z'.repeat(1000)}`;
    expect(collect([long])).toEqual([{ text: long }]);
  });
});
