import { MASK, SecretMasker } from './secret-masker.js';

function streamed(masker: SecretMasker, chunks: string[]): string {
  const stream = masker.stream();
  return chunks.map((c) => stream.push(c)).join('') + stream.flush();
}

describe('SecretMasker', () => {
  const masker = new SecretMasker(['s3cr3t-value', 'hunter22']);

  test('masks whole secrets', () => {
    expect(masker.mask('token is s3cr3t-value, pass hunter22.')).toBe(`token is ${MASK}, pass ${MASK}.`);
  });

  test('masks a secret split across chunks, at every split point', () => {
    const text = 'before s3cr3t-value after';
    for (let cut = 0; cut <= text.length; cut++) {
      expect(streamed(masker, [text.slice(0, cut), text.slice(cut)])).toBe(`before ${MASK} after`);
    }
  });

  test('masks a secret split over many one-character chunks', () => {
    expect(streamed(masker, [...'x hunter22 y s3cr3t-value'])).toBe(`x ${MASK} y ${MASK}`);
  });

  test('holds back only what could start a secret', () => {
    const stream = masker.stream();
    expect(stream.push('plain output\n')).toBe('plain output\n');
    expect(stream.push('ends with s3cr')).toBe('ends with ');
    expect(stream.push('atcx')).toBe('s3cratcx');
  });

  test('flush gives back a held prefix that never became a secret', () => {
    const stream = masker.stream();
    expect(stream.push('hunt')).toBe('');
    expect(stream.flush()).toBe('hunt');
  });

  test('a secret inside a longer one masks the longer one whole', () => {
    const nested = new SecretMasker(['abcd', 'xxabcdyy']);
    expect(nested.mask('1 xxabcdyy 2 abcd')).toBe(`1 ${MASK} 2 ${MASK}`);
  });

  test('ignores values too short to mask and treats regex characters literally', () => {
    const odd = new SecretMasker(['ab', 'a.b*c+d']);
    expect(odd.mask('ab a.b*c+d axbbcd')).toBe(`ab ${MASK} axbbcd`);
  });

  test('with no secrets, passes everything through', () => {
    expect(streamed(new SecretMasker([]), ['a', 'b'])).toBe('ab');
  });
});
