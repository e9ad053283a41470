import { compareVersions } from './version-order.js';

describe('compareVersions', () => {
  test.each([
    ['1.2.13', '1.3.1', -1],
    ['1.10', '1.9', 1],
    ['1.0', '1.0', 0],
    ['1.0~rc1', '1.0', -1],
    ['1.0', '1.0.1', -1],
    ['2.0a', '2.0', 1],
    ['20240101', '9', 1],
  ])('%s against %s is %i', (a, b, expected) => {
    expect(Math.sign(compareVersions(a, b))).toBe(expected);
    expect(Math.sign(compareVersions(b, a))).toBe(-expected || 0);
  });

  test('picks the newest', () => {
    expect(['1.2.13', '1.10.0', '1.3.1', '1.3.1~rc2'].sort(compareVersions).at(-1)).toBe('1.10.0');
  });
});
